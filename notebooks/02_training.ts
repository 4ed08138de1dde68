// The source of notebooks/02_training.ipynb (`./kit task notebooks` builds it).
// Cells: a line `// %% [markdown]` opens prose (lines `// `-prefixed), a line `// %%` code;
// this header is no cell.
// The notebook is thin: markdown, a few calls into lib/models, then K-TRAIN, K-F2 and K-RET.
/// <reference lib="deno.unstable" />

// %% [markdown]
// # 02 · Training: K's four setups and D's frozen encoder pair (K-F2)
//
// **Paper K** tunes a multilingual text encoder (XLM-R large, mean-pooled) together with an image encoder
// (ViT-B/16, ImageNet-21k) on image–caption pairs: text → projection, image → projection, logits
// `S = T·Iᵀ·s` with a learned scale `s` (initialised to 1, no normalisation), cross-entropy **text → image
// only**. Four trained setups (plus the untuned encoder, `xlmr`):
//
// | setup | training signal |
// |---|---|
// | Eng-Only | English captions only |
// | Eng-Pivot | **text only, no images** (K's `align_roberta.py`): each es/ja/hi caption is scored against the batch's English captions through the text tower + projection, cross-entropy — the traditional parallel-text baseline; the image tower is never run |
// | Multilingual | each caption record gets **one** language (en/es/ja/hi), drawn once (seeded) and fixed for all epochs (K's `_singles` files), so no caption is ever seen with its own translation |
// | Multilingual+Quechua | as Multilingual, with Quechua (qu) among the assigned languages |
//
// The tuned setups are evaluated (notebooks 03 and 04) on the **projected** text embedding (mean-pooled
// text tower → projection), as K's evaluation scripts do; untuned XLM-R on the mean-pooled encoder output.
//
// **Mini profile.** Large pretrained checkpoints are not available offline, so the kit trains small analogs
// of the same *architectures* itself (`lib/encoders`: RoBERTa-style XLM-R encoder and ViT with Hugging Face
// parameter names, so real checkpoints load into the same code):
//
// 1. an **unaligned multilingual text encoder** (the XLM-R analog) by masked-LM pretraining on monolingual
//    sentences of many languages, each sentence alone — never a translation pair (train stamps' captions,
//    the CLDR names of the train emoji once per locale in a per-locale shuffled order, SIB-200 train/dev, …);
// 2. an **image encoder** (the ViT analog of in21k supervised pretraining) by classifying each *train*
//    image: a stamp by its category folder, an emoji by its concept (its three drawing sets share a class);
// 3. K's four setups fine-tuned from both (both towers trained after a few head-only warm-up steps, as K's
//    code freezes the towers at first — a frozen tower gets no gradient, so its Adam state starts when it
//    thaws, as torch's; Eng-Pivot trains the text tower only), in K's epoch loop (the last partial batch of
//    each epoch kept; validation after within-epoch batches 30, 60 — K: 300, 600, … — on seeded-shuffled val
//    batches, the plain mean of their losses, none after the last step), keeping the step with the lowest
//    **validation** loss (val partition; never the untrained step 0); K's caption records are notebook 01's:
//    stamps with offline MT for es/qu, **emoji with CLDR's human names** in en/es/ja/hi/qu (a deviation: K's
//    non-English captions are machine translations);
// 4. paper D's frozen pair (a mini CLIP + a multilingual student distilled onto its text space) — see the end.
//
// Everything is cached under `.cache/models/<name>@<hash of config, data and code version>`; a rerun loads
// it, a killed run resumes from its last checkpoint.

// %%
import { kitConfig } from "../lib/config/mod.ts";
import { initTrainingBackend, miniKSetups, paperKSetups } from "../lib/models/mod.ts";

const cfg = kitConfig();
const backend = await initTrainingBackend();
console.log(
  `profile ${cfg.profile}${
    cfg.smoke ? " (smoke: a few steps per model)" : ""
  }; TF.js backend ${backend.name} (${backend.device})`,
);

// %% [markdown]
// ### Train (or load) the models
//
// The first run trains everything (a few minutes on two CPU cores in the mini profile; progress bars show
// steps, rate and ETA); later runs load the cached models in seconds. In the **paper profile** this cell trains
// K's four setups with the kit's TF.js towers from your model folders — `FacebookAI/xlm-roberta-large` and
// `google/vit-base-patch16-224-in21k` (`KIT_K_TEXT_MODEL` / `KIT_K_IMAGE_MODEL`, default under
// `.cache/models/`) — on MS-COCO 2017 with K's plan (512-d projections, Adam 1e-5 decayed per epoch, 10 epochs,
// 32 images a batch, the last partial batch kept, towers frozen for the first half of epoch 0, validation
// after within-epoch batches 300, 600, …; dropout as K's loop leaves it: `model.train()` at each epoch's start,
// `eval()` from its first validation on — `KIT_K_DROPOUT_THROUGHOUT=1` keeps it on). Non-English
// captions come from your translations file (`KIT_K_TRANSLATIONS`, one `{image_id, captions: {en, es, ja, hi, qu}}`
// a line). Each setup is saved as a model folder (`config.json`, `model.safetensors`, tokenizer,
// `projection.safetensors`, `image/`) that notebooks 03/04 and `./kit task embed --projection` read. With
// `--smoke` the plan is tiny (the mirror's 51 COCO images, 4 images a batch, 2 epochs).

// %%
const t0 = performance.now();
const k = cfg.profile === "mini" ? await miniKSetups() : null;
if (cfg.profile === "paper") {
  // before training: the plan's size and what it costs here (the K step measured by ./kit task plan)
  const { paperKCaptions } = await import("../lib/models/mod.ts");
  const { kPaperPlanLines } = await import("../lib/plan/mod.ts");
  const caps = await paperKCaptions({
    smoke: cfg.smoke,
    translations: Deno.env.get("KIT_K_TRANSLATIONS") || null,
  });
  const trainRecords = caps.records.filter((r) => r.partition === "train").length;
  for (
    const line of await kPaperPlanLines({ trainRecords, smoke: cfg.smoke, backend: backend.name })
  ) console.log(line);
}
const kp = cfg.profile === "paper" ? await paperKSetups() : null;
if (k) {
  console.log(
    `caption records: ${k.captions.source}${k.captions.note ? ` — ${k.captions.note}` : ""}`,
  );
  console.log(
    `ready in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s (training seconds are in the table below; 0 steps of new training when cached)`,
  );
}
if (kp) {
  console.log(
    `paper profile: text tower ${kp.folders.text.split("/").slice(-2).join("/")}, image tower ${
      kp.folders.image.split("/").slice(-2).join("/")
    }`,
  );
  console.log(
    `caption records: ${kp.captions.records.length} (${kp.captions.source}); plan ${
      JSON.stringify(kp.hp)
    }`,
  );
  console.log(`ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

// %% [markdown]
// ### What was trained on what (K-TRAIN)
//
// Partitions are fixed by notebook 00 (seeded, **per concept**: every drawing of an emoji in one
// partition): **train** stamps and emoji are the only images any model trains on; **val** only chooses K's
// checkpoint; **test** concepts are held out for the retrieval check
// below (and, with val, for paper D's cross-validation in notebook 05). SIB-200 contributes only its train and
// dev sentences (its test split is the bitext benchmark); XNLI and AmericasNLI are never used for training.

// %%
import { writeFigureArtifact, writeTableArtifact } from "../lib/artifacts/mod.ts";
import {
  kHeldOutRetrieval,
  kLossCurveFigure,
  kPaperTrainingTableRows,
  kTrainingTableRows,
} from "../lib/models/mod.ts";

if (k) {
  await Deno.jupyter.display(
    await writeTableArtifact({
      id: "K-TRAIN",
      title:
        "Mini models: objective, data, partition, languages, sentence/image counts, steps and time",
      rows: kTrainingTableRows(k),
      columns: [
        "model",
        "objective",
        "data",
        "partition",
        "languages",
        "sentences",
        "images",
        "steps",
        "seconds",
        "parameters",
      ],
      caption:
        "seconds = wall-clock training time of the run that produced the cached model (2 CPU cores, TF.js WASM in the mini profile).",
      inputs: { dataset: k.base.datasetHash, corpus: k.base.corpus.fingerprint },
    }),
  );
}
const qu = (k ?? kp)?.models["multilingual-qu"];
if (qu) {
  const a = qu.training.data as {
    languageAssignment?: { seed: number; records: Record<string, string> };
  };
  if (a.languageAssignment) {
    console.log(
      `Multilingual+Quechua: ${
        Object.keys(a.languageAssignment.records).length
      } caption records, one language each (seed ${a.languageAssignment.seed}; the full map is in the model's training.json)`,
    );
  }
}
if (kp) {
  await Deno.jupyter.display(
    await writeTableArtifact({
      id: "K-TRAIN",
      title:
        "Paper K: the setups the kit trained from your model folders: objective, data, partition, languages, counts, steps and time",
      rows: kPaperTrainingTableRows(kp),
      columns: [
        "model",
        "objective",
        "data",
        "partition",
        "languages",
        "sentences",
        "images",
        "steps",
        "seconds",
        "parameters",
      ],
      caption: `K's plan${
        cfg.smoke ? " at smoke sizes (tiny model folders, the mirror's COCO images)" : ""
      }: ${JSON.stringify(kp.hp)}.${
        kp.rehearsalKSteps === null
          ? ""
          : ` K shortened to ${kp.rehearsalKSteps} steps a setup (rehearsal): not a trained model.`
      }`,
    }),
  );
}

// %%
import { deviationsMarkdown, K_DEVIATIONS } from "../lib/deviations/mod.ts";

await Deno.jupyter.md`${
  deviationsMarkdown(K_DEVIATIONS, {
    artifacts: ["K-TRAIN", "K-F2", "K-RET"],
    profile: cfg.profile,
  })
}`;

// %% [markdown]
// ### K-F2: training and validation loss of the four setups
//
// Training loss per optimizer step (moving average over 10 steps) and validation loss on the val stamps
// (dashed). Each setup's own objective is plotted: Eng-Pivot's is the text–text loss (each es/ja/hi caption
// against the batch's English captions), not an image loss, so its curve is not comparable in level. The kept
// checkpoint is the one with the lowest validation loss after training started.

// %%
if (k) {
  await Deno.jupyter.display(
    await writeFigureArtifact({
      id: "K-F2",
      title: "K setups (mini): training and validation loss",
      figure: kLossCurveFigure(k),
      caption:
        "Solid: training loss (10-step moving average); dashed: validation loss on val stamps.",
      seeds: { training: k.base.plan.k.schedule.seed },
      inputs: { dataset: k.base.datasetHash },
    }),
  );
}
if (kp) {
  await Deno.jupyter.display(
    await writeFigureArtifact({
      id: "K-F2",
      title: "K setups (paper profile): training and validation loss",
      figure: kLossCurveFigure(kp),
      caption:
        "Solid: training loss (10-step moving average); dashed: validation loss on COCO val2017.",
      seeds: { training: kp.plan.schedule.seed },
    }),
  );
}

// %% [markdown]
// ### Does image–caption tuning with non-English captions help? Held-out stamps (K-RET)
//
// Text → image retrieval on the **test** stamps, in K's joint space (projected text and image embeddings,
// cosine similarity, `lib/retrieval`): each caption of a language queries the test images. Eng-Pivot is
// text only (no trained image space), so it has no row here. Eng-Only has
// never seen an es/ja/hi caption paired with an image; Multilingual has. K's bitext claims (notebook 03) rest
// on this: captions of different languages are pulled towards the same image.

// %%
let ret: Awaited<ReturnType<typeof kHeldOutRetrieval>> = [];
if (k) {
  ret = await kHeldOutRetrieval(k);
  await Deno.jupyter.display(
    await writeTableArtifact({
      id: "K-RET",
      title: "Held-out (test) stamps: text→image retrieval per setup and caption language",
      rows: ret.map((r) => ({ ...r })), // plain records (HeldOutRetrievalRow is an interface)
      columns: ["setup", "lang", "n", "r1", "r5", "r10", "mrr"],
      formats: { r1: 3, r5: 3, r10: 3, mrr: 3 },
      caption:
        "n test images with a caption in that language; queries = captions, candidates = the same n images.",
      inputs: { dataset: k.base.datasetHash },
    }),
  );
}

// %%
if (k) {
  const r1 = (s: string, l: string) => ret.find((r) => r.setup === s && r.lang === l)?.r1;
  for (const lang of ["es", "ja", "hi", "qu"]) {
    const a = r1("eng-only", lang), b = r1("multilingual", lang);
    if (a === undefined || b === undefined) continue;
    console.log(
      `${lang}: R@1 Eng-Only ${a.toFixed(3)} → Multilingual ${b.toFixed(3)} (${
        b > a ? "Multilingual better" : "Multilingual NOT better"
      })`,
    );
  }
}

// %% [markdown]
// ### A note on K's attention mask
//
// K's code builds the attention mask as `input_ids != 0`. XLM-R (like RoBERTa) pads with id **1** and uses id
// **0** for `<s>`, so that mask hides the sentence-start token and treats padding as real: padded sentences
// attend to, and mean-pool over, padding. The kit does it right: the mask (for attention and for mean
// pooling) is *real tokens* — `input_ids != pad_token_id` for the kit's own tokenizer and the tokenizer's
// attention mask for Hugging Face models — and position ids start at `pad_token_id + 1` as in Hugging Face's
// RoBERTa. Numbers can therefore differ slightly from what K's code would give for the same weights.

// %% [markdown]
// ### Paper D's frozen encoder pair (mini profile)
//
// Paper D embeds images with OpenCLIP ViT-B-32 and captions with `clip-ViT-B-32-multilingual-v1`, a
// multilingual student distilled onto CLIP's English text space with parallel text. The mini profile makes the
// same kind of pair: a mini CLIP (the ViT analog + an English text tower, contrastive on train stamps and
// their English captions), then a multilingual student distilled onto it with parallel sentences (train-stamp
// captions in D's nine languages and SIB-200 train/dev). No val/test stamp is used: D's cross-validation in
// notebook 05 runs on those.

// %%
import { loadClipSpacePair } from "../lib/models/mod.ts";

if (cfg.profile === "mini") {
  const pair = await loadClipSpacePair();
  console.log(
    `image: ${pair.image.id} (${pair.image.dim}-d)\ntext:  ${pair.text.id} (${pair.text.dim}-d)\ntrained on: ${pair.trainedOn}`,
  );
  pair.image.dispose();
  pair.text.dispose();
}
console.log(`notebook total ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// %% [markdown]
// ### Try it: train for fewer steps
//
// How much of what Eng-Only learned comes from its 300 training steps? The cell trains Eng-Only again with
// the numbers of steps in `steps` (from the same pretrained towers, same data and seed; the first ~14 % of
// the steps train only the projections, as K's frozen warm-up) and retrieves the held-out test images with
// their English captions, as K-RET does, beside the default run: MRR (mean of 1/rank; more sensitive than R@1
// this close to chance), R@10, the chance level of both, and the default's 95 % bootstrap interval. The
// sentences under the table read each row. **Change `steps` and rerun** (30 and 90 steps: about 25 s on two
// CPU cores the first time; each run is cached, so a rerun only evaluates, in a few seconds).

// %%
import { kTrainingTryIt } from "../lib/models/mod.ts";

const steps = [30, 90]; // the default run trained 300; try 10, 150 or 600
if (k) await Deno.jupyter.display(await kTrainingTryIt(k, { steps: cfg.smoke ? [2] : steps }));
