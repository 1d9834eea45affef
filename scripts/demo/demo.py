"""Helpers for scripts/demo.sh: the source table, its export, and a writer
that keeps changing it. Everything talks to moto's server on 127.0.0.1.

    demo.py setup  URL TABLE ITEMS      create the table (with a stream) and load it
    demo.py export URL TABLE DIR        write its export in DynamoDB's S3 layout
    demo.py writer URL TABLE SECONDS    puts, updates and deletes until the time is up
"""
import base64
import gzip
import hashlib
import json
import os
import random
import sys
import time

import boto3


def client(url, region="us-east-1"):
    return boto3.client("dynamodb", endpoint_url=url, region_name=region,
                        aws_access_key_id="demo", aws_secret_access_key="demo")


def item(i, rng):
    """An item with a varying number of attributes (up to 100) of every type."""
    it = {"pk": {"S": f"customer#{i % 997}"}, "sk": {"N": str(i)}}
    for a in range(rng.randint(3, 98)):
        kind = a % 10
        name = f"a{a:02d}"
        if kind == 0:
            it[name] = {"S": f"value {i}-{a} ünïcode ✓"}
        elif kind == 1:
            it[name] = {"N": str(rng.choice([i * a, -a, f"{i}.{a}5", "12345678901234567890123456789012345678"]))}
        elif kind == 2:
            it[name] = {"B": base64.b64encode(bytes([i % 256, a % 256, 0, 255])).decode()}
        elif kind == 3:
            it[name] = {"BOOL": (i + a) % 2 == 0}
        elif kind == 4:
            it[name] = {"NULL": True}
        elif kind == 5:
            it[name] = {"M": {"city": {"S": "Oslo"}, "n": {"N": str(a)}, "l": {"L": [{"S": "x"}, {"BOOL": True}]}}}
        elif kind == 6:
            it[name] = {"L": [{"N": str(i)}, {"S": "y"}, {"NULL": True}]}
        elif kind == 7:
            it[name] = {"SS": [f"s{i}", f"t{a}"]}
        elif kind == 8:
            it[name] = {"NS": [str(i), str(a + 0.5)]}
        else:
            it[name] = {"BS": [base64.b64encode(bytes([a])).decode(), base64.b64encode(b"\x00\x01").decode()]}
    return it


def setup(url, table, count):
    db = client(url)
    db.create_table(TableName=table,
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                          {"AttributeName": "sk", "AttributeType": "N"}],
                    BillingMode="PAY_PER_REQUEST",
                    StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    rng = random.Random(7)
    start = time.time()
    for first in range(0, count, 25):
        requests = [{"PutRequest": {"Item": item(i, rng)}} for i in range(first, min(first + 25, count))]
        while requests:
            left = db.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
            requests = left.get(table, [])
        if first % 2000 == 0 and first:
            print(f"  loaded {first} items ({first / (time.time() - start):.0f}/s)", flush=True)
    print(f"  loaded {count} items in {time.time() - start:.0f} s")


def wire(value):
    """boto3 hands binary back as bytes; the export carries base64 text."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


def export(url, table, directory):
    """Scans the table and writes FULL-export files as DynamoDB does."""
    db = client(url)
    export_id = f"{int(time.time() * 1000):014d}-{os.getpid():08x}"[-23:]
    root = os.path.join(directory, "AWSDynamoDB", export_id)
    os.makedirs(os.path.join(root, "data"), exist_ok=True)
    export_time = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    manifest, total, part, lines = [], 0, 0, []

    def flush():
        nonlocal part, lines
        if not lines:
            return
        part += 1
        key = f"AWSDynamoDB/{export_id}/data/part-{part:04d}.json.gz"
        data = gzip.compress("".join(lines).encode())
        with open(os.path.join(directory, key), "wb") as f:
            f.write(data)
        manifest.append({"itemCount": len(lines), "md5Checksum": base64.b64encode(hashlib.md5(data).digest()).decode(),
                         "etag": hashlib.md5(data).hexdigest(), "dataFileS3Key": key})
        lines = []

    start = None
    while True:
        kwargs = {"TableName": table}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = db.scan(**kwargs)
        for it in page["Items"]:
            lines.append(json.dumps({"Item": wire(it)}, ensure_ascii=False, separators=(",", ":")) + "\n")
            total += 1
            if len(lines) == 5000:
                flush()
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    flush()
    with open(os.path.join(root, "manifest-files.json"), "w") as f:
        f.write("".join(json.dumps(m) + "\n" for m in manifest))
    with open(os.path.join(root, "manifest-summary.json"), "w") as f:
        json.dump({"version": "2020-06-30", "exportArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}/export/{export_id}",
                   "startTime": export_time, "endTime": export_time, "exportTime": export_time,
                   "tableArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}",
                   "manifestFilesS3Key": f"AWSDynamoDB/{export_id}/manifest-files.json", "itemCount": total,
                   "outputFormat": "DYNAMODB_JSON", "exportType": "FULL_EXPORT"}, f)
    print(root)


def writer(url, table, seconds):
    """Puts, updates and deletes against the source until the time is up."""
    db = client(url)
    rng = random.Random(11)
    counts = {"put": 0, "update": 0, "delete": 0}
    end = time.time() + seconds
    i = 10_000_000
    while time.time() < end:
        choice = rng.random()
        key = {"pk": {"S": f"customer#{rng.randrange(997)}"}, "sk": {"N": str(rng.randrange(200))}}
        if choice < 0.5:
            i += 1
            db.put_item(TableName=table, Item=item(i, rng))
            counts["put"] += 1
        elif choice < 0.8:
            db.update_item(TableName=table, Key=key, UpdateExpression="SET a00 = :v, touched = :t",
                           ExpressionAttributeValues={":v": {"S": f"updated {i}"}, ":t": {"BOOL": True}})
            counts["update"] += 1
        else:
            db.delete_item(TableName=table, Key=key)
            counts["delete"] += 1
    print(json.dumps(counts))


if __name__ == "__main__":
    command, url, table, arg = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    {"setup": lambda: setup(url, table, int(arg)), "export": lambda: export(url, table, arg),
     "writer": lambda: writer(url, table, float(arg))}[command]()
