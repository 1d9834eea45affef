"""The usual migration recipe's stream handler, for comparison: a Lambda
function that receives a batch of stream records and does one PutItem per
record (and, as in the recipe, ignores deletes). The records are read from
the same loopback source Ferry reads; only the handler loop is timed.

    python3 lambda_style.py SOURCE_URL STREAM_ARN SINK_URL COUNT
"""
import sys
import time

import boto3

source_url, arn, sink_url, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
kw = dict(region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench")
streams = boto3.client("dynamodbstreams", endpoint_url=source_url, **kw)
target = boto3.client("dynamodb", endpoint_url=sink_url, **kw)

shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
records = []
while len(records) < count and iterator:
    page = streams.get_records(ShardIterator=iterator, Limit=1000)
    records += page["Records"]
    iterator = page.get("NextShardIterator")
records = records[:count]

def handler(event):
    for record in event["Records"]:
        if record["eventName"] in ("INSERT", "MODIFY"):
            target.put_item(TableName="bench-target", Item=record["dynamodb"]["NewImage"])

wall0, cpu0 = time.perf_counter(), time.process_time()
for i in range(0, len(records), 100):  # Lambda's default batch size
    handler({"Records": records[i:i + 100]})
wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
print(f"records_per_s={len(records) / wall:.1f} cpu_us_per_record={cpu * 1e6 / len(records):.1f} records={len(records)}")
