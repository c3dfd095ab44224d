"""The Lua scripts of :mod:`releasegate.gateway.breaker_redis`: one per decision, each
atomic in Redis. Times are seconds (floats, kept as text with 17 significant digits);
``now`` is the caller's clock, or the Redis server's when it is empty."""

from __future__ import annotations

__all__ = ["SCRIPTS"]

# Shared by every script: the clock, number formatting, and the status of one breaker.
_LIB = """
local function clock(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function fmt(x) return string.format('%.17g', x) end
local function num(v) if v then return tonumber(v) end return nil end
-- (state code, seconds until a call may be admitted) at `now`
local function status(skey, pkey, now)
  local hold = num(redis.call('HGET', skey, 'hold')) or 0
  local open = num(redis.call('HGET', skey, 'open'))
  local wait = hold - now
  local code = 0
  if open then
    if now < open then
      code = 2
      if open - now > wait then wait = open - now end
    else
      code = 1
      local probe = num(redis.call('GET', pkey))
      if probe and now < probe and probe - now > wait then wait = probe - now end
    end
  end
  if wait < 0 then wait = 0 end
  return code, wait
end
-- window totals over the ring of `n` one-second buckets
local function totals(wkey, now, n)
  local low = math.floor(now) - n + 1
  local all = redis.call('HGETALL', wkey)
  local h = {}
  for i = 1, #all, 2 do h[all[i]] = tonumber(all[i + 1]) end
  local calls, fails = 0, 0
  for i = 0, n - 1 do
    local s = h['s' .. i]
    if s and s >= low then
      calls = calls + (h['c' .. i] or 0)
      fails = fails + (h['f' .. i] or 0)
    end
  end
  return calls, fails
end
-- count one outcome in the bucket of `now`
local function bump(wkey, now, n, failed)
  local sec = math.floor(now)
  local i = sec % n
  if num(redis.call('HGET', wkey, 's' .. i)) ~= sec then
    redis.call('HSET', wkey, 's' .. i, sec, 'c' .. i, 0, 'f' .. i, 0)
  end
  redis.call('HINCRBY', wkey, 'c' .. i, 1)
  if failed then redis.call('HINCRBY', wkey, 'f' .. i, 1) end
  redis.call('PEXPIRE', wkey, n * 1000 + 60000)
end
local function keep(skey, now)
  local hold = num(redis.call('HGET', skey, 'hold')) or 0
  local open = num(redis.call('HGET', skey, 'open')) or 0
  local last = math.max(hold, open, now)
  redis.call('PEXPIRE', skey, math.ceil((last - now) * 1000) + 3600000)
end
"""

# KEYS: state, window, probe. ARGV: now, probe_timeout_s.
# -> {admitted 0/1, state code, retry-after seconds as text}
_ALLOW = (
    _LIB
    + """
local now = clock(ARGV[1])
local code, wait = status(KEYS[1], KEYS[3], now)
if wait > 0 or code == 2 then return {0, code, fmt(wait)} end
if code == 0 then return {1, 0, '0'} end
local pt = tonumber(ARGV[2])
local px = math.ceil(pt * 1000)
if not redis.call('SET', KEYS[3], fmt(now + pt), 'NX', 'PX', px) then
  -- the slot is taken by a probe whose time ran out on `now`'s clock: take it over
  redis.call('SET', KEYS[3], fmt(now + pt), 'PX', px)
end
return {1, 1, '0'}
"""
)

# KEYS: state, window, probe. ARGV: now, n. -> {state code, changed 0/1}
_SUCCESS = (
    _LIB
    + """
local now = clock(ARGV[1])
local open = num(redis.call('HGET', KEYS[1], 'open'))
if open then
  if now < open then return {2, 0} end  -- a call from before it opened proves nothing
  redis.call('HDEL', KEYS[1], 'open')
  redis.call('DEL', KEYS[2], KEYS[3])
  return {0, 1}
end
bump(KEYS[2], now, tonumber(ARGV[2]), false)
return {0, 0}
"""
)

# KEYS: state, window, probe. ARGV: now, n, min_volume, failure_rate, open_s.
# -> {state code, changed 0/1}
_FAILURE = (
    _LIB
    + """
local now = clock(ARGV[1])
local n = tonumber(ARGV[2])
local open_s = tonumber(ARGV[5])
local open = num(redis.call('HGET', KEYS[1], 'open'))
if open then
  -- open: the deadline moves to now + open_s; half-open: the probe failed
  redis.call('HSET', KEYS[1], 'open', fmt(now + open_s))
  redis.call('DEL', KEYS[3])
  keep(KEYS[1], now)
  if now < open then return {2, 0} end
  return {2, 1}
end
bump(KEYS[2], now, n, true)
local calls, fails = totals(KEYS[2], now, n)
if calls >= tonumber(ARGV[3]) and fails >= tonumber(ARGV[4]) * calls then
  redis.call('HSET', KEYS[1], 'open', fmt(now + open_s))
  redis.call('DEL', KEYS[3])
  keep(KEYS[1], now)
  return {2, 1}
end
return {0, 0}
"""
)

# KEYS: state. ARGV: now, seconds.
_HOLD = (
    _LIB
    + """
local now = clock(ARGV[1])
local hold = now + tonumber(ARGV[2])
if hold > (num(redis.call('HGET', KEYS[1], 'hold')) or 0) then
  redis.call('HSET', KEYS[1], 'hold', fmt(hold))
  keep(KEYS[1], now)
end
return 1
"""
)

# KEYS: state, window, probe. ARGV: now, n. -> {state code, retry-after text, calls, fails}
_PEEK = (
    _LIB
    + """
local now = clock(ARGV[1])
local code, wait = status(KEYS[1], KEYS[3], now)
local calls, fails = totals(KEYS[2], now, tonumber(ARGV[2]))
return {code, fmt(wait), calls, fails}
"""
)


SCRIPTS = {"allow": _ALLOW, "success": _SUCCESS, "failure": _FAILURE, "hold": _HOLD, "peek": _PEEK}
"""Script name -> Lua source."""
