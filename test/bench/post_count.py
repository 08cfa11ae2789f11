#!/usr/bin/env python3
"""POSTs exactly N replies (the body of post.lua) over one keep-alive connection and checks
each answer is 201. Usage: post_count.py URL N

post_cost.sh uses it to count what a known number of posts costs the server."""

import http.client
import sys
import urllib.parse

url, count = urllib.parse.urlsplit(sys.argv[1]), int(sys.argv[2])
body = (
    b'{"name":"bench","body":"Measured reply. Each one of these is a durable commit: '
    b"the server answers 201 only once the post is on disk, and posts that arrive "
    b'together share one fsync.\\nSecond line of the reply."}'
)
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
headers = {"Content-Type": "application/json"}
for i in range(count):
    conn.request("POST", url.path, body, headers)
    answer = conn.getresponse()
    answer.read()
    if answer.status != 201:
        sys.exit(f"post {i + 1}: HTTP {answer.status}")
conn.close()
