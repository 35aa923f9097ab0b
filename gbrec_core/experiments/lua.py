"""Lua scripts that update per-user state and the variant's running sums atomically.

Per experiment (prefix ``gbrec:exp:{<id>}:``, one hash slot thanks to the hash tag):
``users`` hash user -> MessagePack [variant, exposures, covariate, a0, b0, a1, b1, ...];
``books:<user>`` hash book -> flags (1 shown, 2 precision hit, 4 positively rated);
``agg:<variant>`` hash of running sums: users, exposures, c, cc, conflicts and per
metric k ``m<k>:{n,x,y,xx,yy,xy,c,cc,xc}``. A user's metric value changing from v0 to v1
adds v1 - v0 to x and v1^2 - v0^2 to xx, so the sums stay exact without a rescan.
"""

from __future__ import annotations

_COMMON = r"""
local prefix = ARGV[1]
local kinds = {}
for k in string.gmatch(ARGV[2], '[^,]+') do kinds[#kinds + 1] = tonumber(k) end
local ttl = tonumber(ARGV[3])
local U = prefix .. 'users'

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
local function incr(key, field, d)
  if d == 0 then return end
  local h = acc[key]
  if h == nil then
    h = {}
    acc[key] = h
  end
  h[field] = (h[field] or 0) + d
end

local function flush_sums()
  for key, h in pairs(acc) do
    for field, d in pairs(h) do
      if d ~= 0 then redis.call('HINCRBYFLOAT', key, field, string.format('%.17g', d)) end
    end
  end
end

-- Per-user state (a MessagePack array: parsing text with gmatch cost ~4x more), read
-- once and written once per batch: one HMGET/HSET per 500 users, not one per event.
local states, dirty = {}, {}
local function prefetch(uids)
  local todo, seen = {}, {}
  for _, uid in ipairs(uids) do
    if states[uid] == nil and not seen[uid] then
      seen[uid] = true
      todo[#todo + 1] = uid
    end
  end
  for lo = 1, #todo, 500 do
    local chunk = {}
    for j = lo, math.min(lo + 499, #todo) do chunk[#chunk + 1] = todo[j] end
    local got = redis.call('HMGET', U, unpack(chunk))
    for j, uid in ipairs(chunk) do
      if got[j] then states[uid] = cmsgpack.unpack(got[j]) else states[uid] = false end
    end
  end
end

local function load_state(uid)
  if states[uid] == nil then prefetch({uid}) end
  return states[uid]
end

local function save_state(uid, st)
  states[uid] = st
  dirty[uid] = true
end

local function finish()
  flush_sums()
  local args = {}
  for uid, _ in pairs(dirty) do
    args[#args + 1] = uid
    args[#args + 1] = cmsgpack.pack(states[uid])
    if #args >= 1000 then
      redis.call('HSET', U, unpack(args))
      args = {}
    end
  end
  if #args > 0 then redis.call('HSET', U, unpack(args)) end
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

-- Field names per metric, built once (string building per update was measurable).
local F = {}
for k = 0, #kinds - 1 do
  local p = 'm' .. k .. ':'
  F[k] = {}
  for _, f in ipairs({'x', 'y', 'xx', 'yy', 'xy', 'n', 'c', 'cc', 'xc'}) do F[k][f] = p .. f end
end

-- Move metric k of a user from (a0, b0) to (a1, b1) in the variant sums A.
local function apply(A, k, c, a0, b0, a1, b1)
  local kind = kinds[k + 1]
  local p = F[k]
  if kind == 1 then
    incr(A, p.x, a1 - a0)
    incr(A, p.y, b1 - b0)
    incr(A, p.xx, a1 * a1 - a0 * a0)
    incr(A, p.yy, b1 * b1 - b0 * b0)
    incr(A, p.xy, a1 * b1 - a0 * b0)
    return
  end
  local v0, v1 = value(kind, a0, b0), value(kind, a1, b1)
  if kind == 2 and (v0 == nil) ~= (v1 == nil) then
    local s = 1
    if v1 == nil then s = -1 end
    incr(A, p.n, s)
    incr(A, p.c, s * c)
    incr(A, p.cc, s * c * c)
  end
  v0 = v0 or 0
  v1 = v1 or 0
  incr(A, p.x, v1 - v0)
  incr(A, p.xx, v1 * v1 - v0 * v0)
  incr(A, p.xc, (v1 - v0) * c)
end
"""

EXPOSURES = (
    _COMMON
    + r"""
-- ARGV[4] stream, ARGV[5] MINID, ARGV[6] metrics, ARGV[7] precision index, ARGV[8]
-- newline-separated "user|variant|covariate|book,book,...", ARGV[9] newline-separated raw
-- JSON for the stream (or ''). Batches travel as two strings: per-argument overhead
-- dominated the cost when every field was its own argument.
local stream, minid = ARGV[4], ARGV[5]
local nm = tonumber(ARGV[6])
local pk = tonumber(ARGV[7])
local items = batch_items(ARGV[8])
local raws = {}
if ARGV[9] ~= '' then raws = fields(ARGV[9], '\n') end
for i = 1, #items do
  local f = fields(items[i])
  local uid, variant, cov = f[1], tonumber(f[2]), tonumber(f[3])
  local st = load_state(uid)
  if st then
    if st[1] ~= variant then incr(prefix .. 'agg:' .. variant, 'conflicts', 1) end
  else
    st = {variant, 0, cov}
    for _ = 1, 2 * nm do st[#st + 1] = 0 end
    local A0 = prefix .. 'agg:' .. variant
    incr(A0, 'users', 1)
    incr(A0, 'c', cov)
    incr(A0, 'cc', cov * cov)
  end
  local A = prefix .. 'agg:' .. st[1]
  st[2] = st[2] + 1
  incr(A, 'exposures', 1)
  local B = prefix .. 'books:' .. uid
  local books = {}
  for book in string.gmatch(f[4] or '', '[^,]+') do books[#books + 1] = book end
  local shown = 0
  if #books > 0 then
    local flags = redis.call('HMGET', B, unpack(books))
    local set, seen = {}, {}
    for j, book in ipairs(books) do
      local fl = tonumber(flags[j] or '0')
      if fl % 2 == 0 and not seen[book] then
        seen[book] = true
        set[#set + 1] = book
        set[#set + 1] = fl + 1
        shown = shown + 1
      end
    end
    if shown > 0 then redis.call('HSET', B, unpack(set)) end
  end
  if shown > 0 then
    redis.call('EXPIRE', B, ttl)
    local ia = 4 + 2 * pk
    apply(A, pk, st[3], st[ia], st[ia + 1], st[ia], st[ia + 1] + shown)
    st[ia + 1] = st[ia + 1] + shown
  end
  save_state(uid, st)
  if raws[i] then
    redis.call('XADD', stream, 'MINID', '~', minid, '*', 'user', uid, 'd', raws[i])
  end
end
finish()
return 1
"""
)

EVENTS = (
    _COMMON
    + r"""
-- ARGV[4] stream, ARGV[5] MINID, ARGV[6] newline-separated "user|book|k,da,db,cond|...",
-- ARGV[7] newline-separated raw JSON (or ''). Returns the number of events attributed
-- (their user had been exposed).
local stream, minid = ARGV[4], ARGV[5]
local attributed = 0
local items = batch_items(ARGV[6])
local raws = {}
if ARGV[7] ~= '' then raws = fields(ARGV[7], '\n') end
for i = 1, #items do
  local f = fields(items[i])
  local uid, book = f[1], f[2]
  local st = load_state(uid)
  if st then
    local A = prefix .. 'agg:' .. st[1]
    local B = prefix .. 'books:' .. uid
    local flags = nil
    for j = 3, #f do
      if f[j] ~= '' then
        local k, da, db, cond = string.match(f[j], '([^,]+),([^,]+),([^,]+),([^,]+)')
        k, da, db, cond = tonumber(k), tonumber(da), tonumber(db), tonumber(cond)
        local ok = true
        if cond > 0 then
          if flags == nil then flags = tonumber(redis.call('HGET', B, book) or '0') end
          local shown = flags % 2 == 1
          if cond == 1 then
            ok = shown and math.floor(flags / 2) % 2 == 0
            if ok then flags = flags + 2 end
          else
            ok = math.floor(flags / 4) % 2 == 0
            if ok then
              flags = flags + 4
              if shown then da = 1 else da = 0 end
            end
          end
        end
        if ok then
          local ia = 4 + 2 * k
          local a0, b0 = st[ia], st[ia + 1]
          st[ia], st[ia + 1] = a0 + da, b0 + db
          apply(A, k, st[3], a0, b0, a0 + da, b0 + db)
        end
      end
    end
    if flags ~= nil then
      redis.call('HSET', B, book, flags)
    end
    save_state(uid, st)
    attributed = attributed + 1
  end
  if raws[i] then
    redis.call('XADD', stream, 'MINID', '~', minid, '*', 'user', uid, 'd', raws[i])
  end
end
finish()
return attributed
"""
)

DELETE_USER = (
    _COMMON
    + r"""
-- ARGV[6] = user (ARGV[4], ARGV[5] unused). Subtracts the user's contribution from
-- every sum, then forgets the user.
local uid = ARGV[6]
local raw = redis.call('HGET', U, uid)
if not raw then return 0 end
local st = cmsgpack.unpack(raw)
local A = prefix .. 'agg:' .. st[1]
for k = 0, #kinds - 1 do
  local ia = 4 + 2 * k
  apply(A, k, st[3], st[ia], st[ia + 1], 0, 0)
end
incr(A, 'users', -1)
incr(A, 'exposures', -st[2])
incr(A, 'c', -st[3])
incr(A, 'cc', -st[3] * st[3])
flush_sums()
redis.call('HDEL', U, uid)
redis.call('DEL', prefix .. 'books:' .. uid)
return 1
"""
)
