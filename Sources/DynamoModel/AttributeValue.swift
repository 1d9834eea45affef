// Placeholder; replaced by the DynamoModel work.
public enum DynamoModelPlaceholder {}
