-- wrk script for test/bench/http.sh: every request is a durable reply.
-- The URL given to wrk names the thread: http://HOST:PORT/api/boards/BOARD/threads/N/posts
-- The body is fixed (about 200 characters), so each request costs the same to validate and store.

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"bench","body":"Measured reply. Each one of these is a durable commit: ' ..
           'the server answers 201 only once the post is on disk, and posts that arrive ' ..
           'together share one fsync.\\nSecond line of the reply."}'
