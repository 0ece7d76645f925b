export { createFileCache, type FileCacheOptions } from "./file-cache.js";
