#!/usr/bin/env python3
"""Sign a .req file (SigV4 test-suite format) with botocore's SigV4Auth at the
suite's fixed time and credentials; print the Authorization header.
Usage: botocore_sign.py FILE.req [SERVICE] [REGION].  Exit 77 without botocore."""
import datetime
import sys

try:
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    sys.exit(77)

raw = open(sys.argv[1], "rb").read().decode()
head, _, body = raw.partition("\n\n")
lines = head.split("\n")
method, target, _ = lines[0].split(" ")
headers = {}
token = None
for line in lines[1:]:
    name, _, value = line.partition(":")
    if name.lower() == "x-amz-security-token":
        token = value  # botocore adds this header itself from the credentials
    elif name.lower() != "x-amz-date":
        headers[name] = value
url = "https://" + headers["Host"] + target
fixed = datetime.datetime(2015, 8, 30, 12, 36, 0)
botocore.auth.get_current_datetime = lambda: fixed
req = AWSRequest(method=method, url=url, data=body.encode(), headers=headers)
creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
service = sys.argv[2] if len(sys.argv) > 2 else "service"
region = sys.argv[3] if len(sys.argv) > 3 else "us-east-1"
botocore.auth.SigV4Auth(creds, service, region).add_auth(req)
print(req.headers["Authorization"])
