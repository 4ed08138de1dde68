/** The dataset build's file-hash cache is the kit's shared one (lib/util/file_hash_cache.ts). */
export { FileHashCache } from "../util/file_hash_cache.ts";
