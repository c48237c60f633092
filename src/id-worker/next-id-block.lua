-- Reserves a block of `size` sequence numbers of one prefix's UTC day with one INCRBY; the caller
-- hands them out locally. Returns the block's last number (the first is last - size + 1).
-- Blocks never overlap, so ids stay unique across replicas and restarts; a block left unused by a
-- restart is simply skipped.
local counterKey = KEYS[1]
local size = tonumber(ARGV[1])
local expireAtSeconds = tonumber(ARGV[2])

-- 40 per millisecond since this server's UTC midnight (at most 3,456,000,000, leaving 800 M+ for
-- the rest of any day): a counter restarted later in the day starts above every number the lost
-- one handed out, as long as the day averaged under 40,000 ids a second until then.
local function seedOffset()
  local now = redis.call('time')
  return (tonumber(now[1]) % 86400) * 40000 + math.floor(tonumber(now[2]) / 25)
end

local last = redis.call('incrby', counterKey, size)
if last == size then
  -- A fresh counter (a new day, or lost with Redis data): start above what the day can plausibly
  -- have handed out by now, so a lost counter never repeats an id; see seedOffset.
  last = redis.call('incrby', counterKey, seedOffset())
  redis.call('expireat', counterKey, expireAtSeconds)
end
return last
