-- Shared by the exposure, event and erasure scripts. KEYS[1] the experiment's users
-- hash, KEYS[2] its raw-event log, then (on a cluster) every variant's sums
-- (<prefix>agg:<v>) and the shown-book flags (<prefix>books:<user>) of the batch's users:
-- the names this script builds, each passed through declared_key. ARGV[1] key prefix,
-- ARGV[2] metric kinds, ARGV[3] shown-book flag TTL (s). Users are pseudonyms (32 hex
-- digits), never raw ids.
local prefix = ARGV[1]
local kinds = {}
for k in string.gmatch(ARGV[2], '[^,]+') do kinds[#kinds + 1] = tonumber(k) end
local ttl = tonumber(ARGV[3])
local U = KEYS[1]

local function fields(s, sep)
  local t, start = {}, 1
  sep = sep or '|'
  while true do
    local j = string.find(s, sep, start, true)
    if not j then
      t[#t + 1] = string.sub(s, start)
      return t
    end
    t[#t + 1] = string.sub(s, start, j - 1)
    start = j + 1
  end
end

-- Sums are accumulated in Lua and written once per field at the end of the batch: a
-- batch touches few variant hashes, so this turns O(events) writes into O(fields).
local acc = {}
local function sums(key)
  local h = acc[key]
  if h == nil then
    h = {}
    acc[key] = h
  end
  return h
end

local function incr(h, field, d)
  if d ~= 0 then h[field] = (h[field] or 0) + d end
end

-- Metric sums per variant: an array of 9 per metric (x, y, xx, yy, xy, n, c, cc, xc),
-- array slots being cheaper than string-keyed fields on this hot path.
local NAMES = {'x', 'y', 'xx', 'yy', 'xy', 'n', 'c', 'cc', 'xc'}
local FIELD = {}
for k = 0, #kinds - 1 do
  for j, name in ipairs(NAMES) do FIELD[9 * k + j] = 'm' .. k .. ':' .. name end
end
local M = {}
local function metric_sums(variant)
  local m = M[variant]
  if m == nil then
    m = {}
    for i = 1, 9 * #kinds do m[i] = 0 end
    M[variant] = m
  end
  return m
end

local function hincr(key, field, d)
  if d ~= 0 then
    redis.call('HINCRBYFLOAT', declared_key(key), field, string.format('%.17g', d))
  end
end

local function flush_sums()
  for key, h in pairs(acc) do
    for field, d in pairs(h) do hincr(key, field, d) end
  end
  for variant, m in pairs(M) do
    local key = prefix .. 'agg:' .. variant
    for i = 1, #m do hincr(key, FIELD[i], m[i]) end
  end
end

-- Per-user state: little-endian doubles [variant, exposures, covariate, a0, b0, a1, b1,
-- ...] (struct unpacks a state in one C call, half the cost of MessagePack). Read once
-- per batch (one HMGET per 500 users), written once (one HSET per 500 users).
local formats = {}
local function format_of(n)
  local f = formats[n]
  if f == nil then
    f = '<' .. string.rep('d', n)
    formats[n] = f
  end
  return f
end

local function decode(raw)
  local st = {struct.unpack(format_of(#raw / 8), raw)}
  st[#st] = nil -- struct.unpack also returns the next read position
  return st
end

-- states[uid]: current state (false: none); before[uid]: as read, for the final deltas.
local states, before, dirty = {}, {}, {}
local function prefetch(uids)
  for lo = 1, #uids, 500 do
    local hi = math.min(lo + 499, #uids)
    local got = redis.call('HMGET', U, unpack(uids, lo, hi))
    for j = 1, hi - lo + 1 do
      local uid = uids[lo + j - 1]
      if states[uid] == nil then
        local raw = got[j]
        if raw then
          local st = decode(raw)
          states[uid] = st
          before[uid] = {unpack(st)}
        else
          states[uid] = false
        end
      end
    end
  end
end

local function value(kind, a, b)
  if kind == 2 then
    if b > 0 then return a / b end
    return nil
  end
  if kind == 4 then
    if a > 0 then return 1 end
    return 0
  end
  return a
end

-- Move metric k of a user from (a0, b0) to (a1, b1) in the variant's metric sums m.
-- Every sum is a sum over users of a function of (a, b, c), so one move from a user's
-- state before the batch to the state after it equals the moves of its events one by one.
local function apply(m, k, c, a0, b0, a1, b1)
  local kind = kinds[k + 1]
  local o = 9 * k
  if kind == 1 then
    m[o + 1] = m[o + 1] + (a1 - a0)
    m[o + 2] = m[o + 2] + (b1 - b0)
    m[o + 3] = m[o + 3] + (a1 * a1 - a0 * a0)
    m[o + 4] = m[o + 4] + (b1 * b1 - b0 * b0)
    m[o + 5] = m[o + 5] + (a1 * b1 - a0 * b0)
    return
  end
  local v0, v1 = value(kind, a0, b0), value(kind, a1, b1)
  if kind == 2 and (v0 == nil) ~= (v1 == nil) then
    local s = 1
    if v1 == nil then s = -1 end
    m[o + 6] = m[o + 6] + s
    m[o + 7] = m[o + 7] + s * c
    m[o + 8] = m[o + 8] + s * c * c
  end
  v0 = v0 or 0
  v1 = v1 or 0
  m[o + 1] = m[o + 1] + (v1 - v0)
  m[o + 3] = m[o + 3] + (v1 * v1 - v0 * v0)
  m[o + 9] = m[o + 9] + (v1 - v0) * c
end

-- Add every changed metric of a user (state st, before the batch st0 or zeros for a
-- new user) to the sums of the user's variant.
local function settle(st, st0)
  local m = metric_sums(st[1])
  for k = 0, #kinds - 1 do
    local ia = 4 + 2 * k
    local a0, b0 = 0, 0
    if st0 then a0, b0 = st0[ia], st0[ia + 1] end
    if st[ia] ~= a0 or st[ia + 1] ~= b0 then apply(m, k, st[3], a0, b0, st[ia], st[ia + 1]) end
  end
end

local function finish()
  local args = {}
  for uid, _ in pairs(dirty) do
    local st = states[uid]
    settle(st, before[uid])
    args[#args + 1] = uid
    args[#args + 1] = struct.pack(format_of(#st), unpack(st))
    if #args >= 1000 then
      redis.call('HSET', U, unpack(args))
      args = {}
    end
  end
  if #args > 0 then redis.call('HSET', U, unpack(args)) end
  flush_sums()
end

-- The batch's raw events as one log member (score: the batch time in ms), and the
-- retention trim. ARGV: log min score, batch time, batch id, newline-separated JSON.
local function append_log(minscore, now, batch_id, raw)
  if raw == '' then return end
  redis.call('ZADD', KEYS[2], now, batch_id .. '\n' .. raw)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. minscore)
end

-- Split the batch into items and prefetch the state of every user in it.
local function batch_items(arg)
  local items = fields(arg, '\n')
  local uids = {}
  for i = 1, #items do
    local bar = string.find(items[i], '|', 1, true)
    uids[i] = string.sub(items[i], 1, bar - 1)
  end
  prefetch(uids)
  return items
end
