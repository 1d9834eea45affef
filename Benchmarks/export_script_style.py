"""The usual export loader, for comparison: gunzip each data file into
memory, then one PutItem per line, printing and skipping errors.

    python3 export_script_style.py EXPORT_ROOT SINK_URL COUNT
"""
import gzip
import json
import os
import resource
import sys
import time

import boto3

root, sink_url, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
target = boto3.client("dynamodb", endpoint_url=sink_url, region_name="us-east-1",
                      aws_access_key_id="bench", aws_secret_access_key="bench")
files = sorted(os.listdir(os.path.join(root, "data")))
done = 0
wall0, cpu0 = time.perf_counter(), time.process_time()
for name in files:
    with gzip.open(os.path.join(root, "data", name)) as f:
        lines = f.read().decode("utf-8").splitlines()   # the whole file in memory
    for line in lines:
        try:
            target.put_item(TableName="bench-target", Item=json.loads(line)["Item"])
        except Exception as e:  # the recipe prints and goes on
            print("skipped:", e, file=sys.stderr)
        done += 1
        if done >= count:
            break
    if done >= count:
        break
wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"items_per_s={done / wall:.1f} cpu_us_per_item={cpu * 1e6 / done:.1f} peak_mb={peak:.0f} items={done}")
