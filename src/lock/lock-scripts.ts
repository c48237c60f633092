import { RedisScript } from '../redis/redis-script';

/** The lock library's Lua scripts, loaded once from the `.lua` files beside this module. */
export const lockScripts = {
  acquire: RedisScript.fromFile(__dirname, 'acquire.lua', [2, 3]),
  release: RedisScript.fromFile(__dirname, 'release.lua', [2, 4]),
  renew: RedisScript.fromFile(__dirname, 'renew.lua', 1),
  forceRelease: RedisScript.fromFile(__dirname, 'force-release.lua', 2),
  simpleRelease: RedisScript.fromFile(__dirname, 'simple-release.lua', 1),
};
