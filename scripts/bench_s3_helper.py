#!/usr/bin/python3
"""S3 helpers for scripts/bench, run with Debian's python3 (python3-boto3).

  bench_s3_helper.py upload ENDPOINT KEYS_FILE     PUT every key (16 threads)
  bench_s3_helper.py boto3-loop ENDPOINT KEYS_FILE one DeleteObject per key, sequential
                                                   (what the original's cleanup did)
  bench_s3_helper.py ceiling ENDPOINT KEYS_FILE    back-to-back 1000-key DeleteObjects
Prints the seconds the measured part took.
"""
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def client(endpoint):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER",
                        region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}, max_pool_connections=32,
                                      retries={"max_attempts": 3}))


def main():
    action, endpoint, keys_file = sys.argv[1:4]
    with open(keys_file) as f:
        keys = [line.strip() for line in f if line.strip()]
    s3 = client(endpoint)
    start = time.perf_counter()
    if action == "upload":
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda key: s3.put_object(Bucket="gallery", Key=key, Body=b"x" * 1024), keys))
    elif action == "boto3-loop":
        for key in keys:
            s3.delete_object(Bucket="gallery", Key=key)
    elif action == "ceiling":
        for i in range(0, len(keys), 1000):
            s3.delete_objects(Bucket="gallery", Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})
    else:
        raise SystemExit(f"unknown action {action}")
    print(f"{time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
