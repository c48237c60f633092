-- Reserves a block of `size` sequence numbers of one prefix's UTC day with one INCRBY; the caller
-- hands them out locally. Returns the block's last number (the first is last - size + 1).
-- Blocks never overlap, so ids stay unique across replicas and restarts; a block left unused by a
-- restart is simply skipped.
local counterKey = KEYS[1]
local size = tonumber(ARGV[1])
local expireAtSeconds = tonumber(ARGV[2])

local last = redis.call('incrby', counterKey, size)
if last == size then
  redis.call('expireat', counterKey, expireAtSeconds)
end
return last
