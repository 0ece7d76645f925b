export { createMemoryCache, type MemoryCacheOptions } from "./memory-cache.js";
