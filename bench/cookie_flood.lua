-- wrk script: every request carries a different random session cookie of COOKIE_BYTES characters
-- (an attacker filling memory), and the last line printed is a JSON summary.
local charset = "abcdefghijklmnopqrstuvwxyz0123456789"
local cookie_bytes = tonumber(os.getenv("COOKIE_BYTES") or "6144")
local cookie_name = os.getenv("COOKIE_NAME") or "__Host-sessionid"

math.randomseed(os.time())

local function random_key(length)
  local parts = {}
  for i = 1, length do
    local n = math.random(1, #charset)
    parts[i] = charset:sub(n, n)
  end
  return table.concat(parts)
end

request = function()
  wrk.headers["Cookie"] = cookie_name .. "=" .. random_key(cookie_bytes)
  wrk.headers["X-Forwarded-Proto"] = "https"
  return wrk.format("GET", wrk.path)
end

done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "non_2xx": %d}\n', summary.requests,
    summary.errors.status))
end
