/**
 * Child process of k_paper_resumable_eval_test.ts: prints the content fingerprint of a K setup
 * folder, computed in a process of its own (with its own hash cache file), as JSON.
 *
 *   deno run -A tests/helpers/k_fingerprint_child.ts FOLDER HASHES_JSON
 */
import { kSetupFolderFingerprint } from "../../lib/models/k_paper_encoder_pool.ts";
import { FileHashCache } from "../../lib/util/file_hash_cache.ts";

const [folder, hashes] = Deno.args;
const fingerprint = await kSetupFolderFingerprint(folder!, { maxLength: 500, projection: true }, {
  hashCache: new FileHashCache(hashes!),
});
console.log(JSON.stringify({ fingerprint }));
