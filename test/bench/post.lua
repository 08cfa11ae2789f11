-- wrk script for test/bench/http.sh: every request is a durable reply.
-- The URL given to wrk names the thread: http://HOST:PORT/api/boards/BOARD/threads/N/posts (or
-- the first of several, see below)
-- The body is fixed (about 200 characters), so each request costs the same to validate and store.

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"bench","body":"Measured reply. Each one of these is a durable commit: ' ..
           'the server answers 201 only once the post is on disk, and posts that arrive ' ..
           'together share one fsync.\\nSecond line of the reply."}'

-- Thread numbers given after `--` (`wrk ... URL -- 12 13 14 15`) are posted into in turn, each
-- wrk thread cycling through them; without them every post goes to the URL's thread.
local paths = {}
local turn = 0

function init(args)
  local base = wrk.path:match("^(.*/threads/)%d+/posts$")
  for _, thread in ipairs(args) do
    paths[#paths + 1] = base .. thread .. "/posts"
  end
end

function request()
  if #paths == 0 then
    return wrk.request()
  end
  turn = turn % #paths + 1
  return wrk.format(nil, paths[turn])
end
