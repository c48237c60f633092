// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_RESERVE_LUA = String.raw`
-- Synchronous admission of a batch of requests for one voucher, one round trip for all of them: each
-- request's rate limits (per user and per client address, token buckets of this sale; takeTokens is
-- prepended from token-bucket.lua), then the window against this server's clock (TIME, so replicas
-- with skewed clocks agree), then for each request in order the stock and the buyer; an admitted
-- request reserves one unit, so only about 'stock' requests go on to MySQL. Replicas send the
-- requests that arrived in the same event-loop turn together (ReserveBatcher).
-- KEYS: state, buyers, then (only when a limit is on) for each request its user bucket and its
-- address bucket.
-- ARGV: userRate, userBurst, addressRate, addressBurst (a rate of 0: that limit is off), then the
-- userId of each request.
-- Returns {endMs, then code, retryAfterMs for each request}: codes 0 not published (state missing),
-- 1 not started, 2 ended, 3 sold out, 4 already bought, 5 reserved (the caller must confirm the sale
-- or release the unit), 6 rate limited (retry after retryAfterMs).
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local userRate = tonumber(ARGV[1])
local userBurst = tonumber(ARGV[2])
local addressRate = tonumber(ARGV[3])
local addressBurst = tonumber(ARGV[4])
local FIRST_REQUEST_ARG = 5
local requests = #ARGV - FIRST_REQUEST_ARG + 1
local limited = #KEYS > 2

local now = redis.call('time')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local codes = {}
local retries = {}

local function reply(endMs)
  local out = {endMs}
  for i = 1, requests do
    out[2 * i] = codes[i]
    out[2 * i + 1] = retries[i] or 0
  end
  return out
end

-- Limits first: a refused request costs nothing else and counts whatever the sale's state.
if limited then
  for i = 1, requests do
    local allowed, retryAfterMs = takeTokens({
      {KEYS[1 + 2 * i], userRate, userBurst},
      {KEYS[2 + 2 * i], addressRate, addressBurst},
    }, nowMs)
    if not allowed then
      codes[i] = 6
      retries[i] = retryAfterMs
    end
  end
end

-- Answers every request the limits let through with one code.
local function all(code, endMs)
  for i = 1, requests do
    codes[i] = codes[i] or code
  end
  return reply(endMs)
end

local state = redis.call('hmget', stateKey, 'stock', 'begin', 'end')
-- A partial hash (e.g. only a sold-out mark survived) counts as unpublished: MySQL will repair it.
if not state[1] or not state[2] or not state[3] then
  return all(0, 0)
end
local endMs = tonumber(state[3])
if nowMs < tonumber(state[2]) then
  return all(1, endMs)
end
if nowMs >= endMs then
  return all(2, endMs)
end

local stock = tonumber(state[1])
local taken = 0
for i = 1, requests do
  if not codes[i] then
    if stock - taken <= 0 then
      codes[i] = 3
    elseif redis.call('sismember', buyersKey, ARGV[FIRST_REQUEST_ARG + i - 1]) == 1 then
      codes[i] = 4
    else
      codes[i] = 5
      taken = taken + 1
    end
  end
end
if taken > 0 then
  redis.call('hincrby', stateKey, 'stock', -taken)
end
return reply(endMs)
`;
