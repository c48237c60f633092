// Embedded so the package ships its scripts inside its JavaScript (no .lua asset to copy or find at
// run time). The Lua's own comments say why each step is there.
import type { PublishCommand } from './publish-command';

/** force-release.lua with classic (`publish`) or sharded (`spublish`) pub/sub, as release.lua. */
export const forceReleaseLua = (publish: PublishCommand): string => String.raw`
-- Administrative release regardless of owner. Returns 1 if a lock was deleted, 0 if none existed.
local lockKey = KEYS[1]
local channel = KEYS[2]

if redis.call('del', lockKey) == 1 then
  redis.call('${publish}', channel, 'released')
  return 1
end
return 0
`;
