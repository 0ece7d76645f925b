export { createRedisCache, type RedisCacheOptions } from "./redis-cache.js";
