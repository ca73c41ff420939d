-- wrk script for tests/bench/load.sh: posts realistic submissions, each under a fresh key.
-- BENCH_MODE: "html" (POST /f/zhengqiu as multipart/form-data, as the form page posts, with a signed _key
-- from keys.txt), "json" (POST
-- /api/v1/forms/zhengqiu/responses with a fresh Idempotency-Key) or "ref" (POST /submit, reference b).
-- BENCH_DIR holds the files written by the bench_data example; BENCH_THREADS is wrk's -t. BENCH_PART and
-- BENCH_PARTS (default 0 of 1) give wrk processes run side by side disjoint shares of keys.txt.
--
-- wrk shares the machine's CPUs with the server it measures, so each request is built with as little
-- work as possible: every body's request is formatted once in init() around a marker where the key goes,
-- and request() only joins the two halves with the key (formatting each request anew with wrk.format cost
-- a sixth of the CPU time here). The bytes sent are the same as wrk.format's.
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local MARK = "\1KEY\1"

-- Formats a request with MARK standing for the key, and returns the text before and after it. In a body
-- (the HTML form) the marker is as long as the key, so the Content-Length holds; in a header (JSON) the
-- key's length does not matter.
local function split(method, path, headers, body)
  local req = wrk.format(method, path, headers, body)
  local at = req:find(MARK, 1, true)
  return req:sub(1, at - 1), req:sub(at + #MARK)
end

function init(args)
  mode = os.getenv("BENCH_MODE")
  local dir = os.getenv("BENCH_DIR")
  local nthreads = tonumber(os.getenv("BENCH_THREADS"))
  local part, parts = tonumber(os.getenv("BENCH_PART") or "0"), tonumber(os.getenv("BENCH_PARTS") or "1")
  run = os.getenv("BENCH_RUN") or "run"
  if mode == "html" then
    -- This thread's keys, joined into one string: signed keys all have the same length, so the n-th is
    -- found by position. (Kept as a table of 200,000 strings, every run of Lua's garbage collector, set
    -- off often since each request is a new string of a few KB, walked them all: wrk spent 15 µs of user
    -- time per HTML request instead of 7, taken from the server it measures.)
    local mine, i = {}, 0
    for line in io.lines(dir .. "/keys.txt") do
      if i % (nthreads * parts) == part * nthreads + tid then mine[#mine + 1] = line end
      i = i + 1
    end
    keylen, nkeys = #mine[1], #mine
    keys = table.concat(mine)
    mine = nil
    -- The marker is padded to the keys' length.
    MARK = MARK .. string.rep("k", keylen - #MARK)
    exhausted = "exhausted" .. string.rep("-", keylen - 9)
  end
  heads, tails = {}, {}
  local function add(head, tail)
    heads[#heads + 1], tails[#tails + 1] = head, tail
  end
  if mode == "html" then
    -- Multipart bodies hold line breaks: bench_data ends each with a NUL byte instead of a newline.
    local f = assert(io.open(dir .. "/html_bodies.txt", "rb"))
    local all = f:read("*a")
    f:close()
    local from = 1
    while from <= #all do
      local nul = all:find("\0", from, true)
      local body = all:sub(from, nul - 1)
      from = nul + 1
      local boundary = body:match("^%-%-([^\r]+)\r\n")
      local at = body:find("{{KEY}}", 1, true)
      body = body:sub(1, at - 1) .. MARK .. body:sub(at + #"{{KEY}}")
      add(split("POST", "/f/zhengqiu", { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }, body))
    end
  else
    for body in io.lines(dir .. "/json_bodies.txt") do
      if mode == "json" then
        add(split("POST", "/api/v1/forms/zhengqiu/responses",
          { ["Content-Type"] = "application/json", ["Idempotency-Key"] = MARK }, body))
      else
        add(wrk.format("POST", "/submit", { ["Content-Type"] = "application/json" }, body), "")
      end
    end
  end
  prefix = run .. "-" .. tid .. "-"
  n = 0
end

function request()
  n = n + 1
  local i = (n % #heads) + 1
  if mode == "html" then
    -- Keys are never reused: when they run out the server answers 400 and wrk counts non-2xx/3xx.
    local key = n <= nkeys and keys:sub((n - 1) * keylen + 1, n * keylen) or exhausted
    return heads[i] .. key .. tails[i]
  elseif mode == "json" then
    return heads[i] .. prefix .. n .. tails[i]
  else
    return heads[i]
  end
end
