"""Helpers for scripts/demo.sh: the source table, its export, and a writer
that keeps changing it. Everything talks to moto's server on 127.0.0.1.

    demo.py setup  URL TABLE ITEMS DIR  create the table (with a stream), load it, and
                                        write the same items as a DynamoDB export under DIR
    demo.py writer URL TABLE SECONDS LOADED [RATE]
                                        inserts, updates and deletes of existing items (of
                                        the LOADED that setup wrote) at RATE a second (60)
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


def item(i, rng, most=98):
    """An item with a varying number of attributes (up to 100) of every type."""
    it = {"pk": {"S": f"customer#{i % 997}"}, "sk": {"N": str(i)}}
    # Like most real tables: a dozen or so attributes, now and then many more.
    for a in range(min(most, 3 + int(rng.expovariate(1 / 12)))):
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


class ExportFiles:
    """Writes items as a FULL export in DynamoDB's S3 layout: gzip JSON-lines
    data files, manifest-files.json (item count and base64 MD5 of each file)
    and manifest-summary.json."""

    def __init__(self, directory, table):
        self.directory, self.table = directory, table
        self.export_id = f"{int(time.time() * 1000):014d}-{os.getpid():08x}"[-23:]
        self.root = os.path.join(directory, "AWSDynamoDB", self.export_id)
        os.makedirs(os.path.join(self.root, "data"), exist_ok=True)
        self.manifest, self.lines, self.total, self.part = [], [], 0, 0

    def add(self, it):
        self.lines.append(json.dumps({"Item": it}, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.total += 1
        if len(self.lines) == 5000:
            self.flush()

    def flush(self):
        if not self.lines:
            return
        self.part += 1
        key = f"AWSDynamoDB/{self.export_id}/data/part-{self.part:04d}.json.gz"
        data = gzip.compress("".join(self.lines).encode())
        with open(os.path.join(self.directory, key), "wb") as f:
            f.write(data)
        self.manifest.append({"itemCount": len(self.lines), "etag": hashlib.md5(data).hexdigest(), "dataFileS3Key": key,
                              "md5Checksum": base64.b64encode(hashlib.md5(data).digest()).decode()})
        self.lines = []

    def finish(self):
        self.flush()
        export_time = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        with open(os.path.join(self.root, "manifest-files.json"), "w") as f:
            f.write("".join(json.dumps(m) + "\n" for m in self.manifest))
        with open(os.path.join(self.root, "manifest-summary.json"), "w") as f:
            json.dump({"version": "2020-06-30", "exportArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{self.table}/export/{self.export_id}",
                       "startTime": export_time, "endTime": export_time, "exportTime": export_time,
                       "tableArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{self.table}",
                       "manifestFilesS3Key": f"AWSDynamoDB/{self.export_id}/manifest-files.json", "itemCount": self.total,
                       "outputFormat": "DYNAMODB_JSON", "exportType": "FULL_EXPORT"}, f)
        return self.root


def setup(url, table, count, directory):
    """Creates and loads the table, and writes the same items as its export
    (what DynamoDB's export to S3 would write for a table just loaded)."""
    db = client(url)
    db.create_table(TableName=table,
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                          {"AttributeName": "sk", "AttributeType": "N"}],
                    BillingMode="PAY_PER_REQUEST",
                    StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    rng = random.Random(7)
    export = ExportFiles(directory, table)
    start = time.time()
    for first in range(0, count, 25):
        items = [item(i, rng) for i in range(first, min(first + 25, count))]
        requests = [{"PutRequest": {"Item": it}} for it in items]
        while requests:
            left = db.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
            requests = left.get(table, [])
        for it in items:
            export.add(it)
        if first % 5000 == 0 and first:
            print(f"  loaded {first} items ({first / (time.time() - start):.0f}/s)", flush=True)
    print(f"  loaded {count} items in {time.time() - start:.0f} s")
    print(export.finish())


# The writer's items stay small (up to 20 attributes): moto serves the
# writes, Ferry's reads of the stream and Ferry's writes to the target from
# one Python process, and big items would hold the writer below its rate.
WRITER_ATTRIBUTES = 18


def writer(url, table, seconds, loaded, rate):
    """Changes the source at a steady `rate` per second until the time is up:
    inserts of new items, overwrites and updates of items that exist, and
    deletes of items that exist (the keys setup loaded, then those inserted).
    One client on purpose: moto can hand out a stream sequence number twice
    when two write at once. Puts and deletes go in BatchWriteItem requests (a
    stream record per item), so a few requests a second carry the rate."""
    db = client(url)
    rng = random.Random(11)
    live = [(i % 997, i) for i in range(loaded)]  # (customer, sk) of setup's items
    counts = {"insert": 0, "overwrite": 0, "update": 0, "delete": 0}
    started = time.time()
    end = started + seconds
    done = 0
    i = 10_000_000

    def key(k):
        return {"pk": {"S": f"customer#{k[0]}"}, "sk": {"N": str(k[1])}}

    def take_live(avoid):
        for _ in range(8):  # a key at most once per batch (BatchWriteItem refuses duplicates)
            j = rng.randrange(len(live))
            if live[j] not in avoid:
                live[j], live[-1] = live[-1], live[j]
                return live.pop()
        return None

    while time.time() < end:
        due = min(100, int((time.time() - started) * rate) - done)
        if due <= 0:
            time.sleep(0.02)
            continue
        requests, in_batch, updates = [], set(), []
        for _ in range(min(due, 25)):
            choice = rng.random()
            if choice < 0.3 or len(live) < 50:
                i += 1
                k = (i % 997, i)
                requests.append({"PutRequest": {"Item": item(i, rng, WRITER_ATTRIBUTES) | key(k)}})
                in_batch.add(k)
                live.append(k)
                counts["insert"] += 1
            elif choice < 0.5:
                k = take_live(in_batch)
                if k is None:
                    continue
                i += 1
                requests.append({"PutRequest": {"Item": item(i, rng, WRITER_ATTRIBUTES) | key(k)}})
                in_batch.add(k)
                live.append(k)
                counts["overwrite"] += 1
            elif choice < 0.65:
                updates.append(live[rng.randrange(len(live))])
                counts["update"] += 1
            else:
                k = take_live(in_batch)
                if k is None:
                    continue
                requests.append({"DeleteRequest": {"Key": key(k)}})
                in_batch.add(k)
                counts["delete"] += 1
        while requests:
            left = db.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
            requests = left.get(table, [])
        for k in updates:
            db.update_item(TableName=table, Key=key(k), UpdateExpression="SET a00 = :v, touched = :t",
                           ExpressionAttributeValues={":v": {"S": f"updated {i}"}, ":t": {"BOOL": True}})
        done += min(due, 25)
    elapsed = time.time() - started
    counts["per_second"] = round(sum(v for k, v in counts.items() if k != "per_second") / elapsed, 1)
    print(json.dumps(counts))


if __name__ == "__main__":
    command, url, table, arg = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    if command == "setup":
        setup(url, table, int(arg), sys.argv[5])
    else:
        writer(url, table, float(arg), int(sys.argv[5]), float(sys.argv[6]) if len(sys.argv) > 6 else 60)
