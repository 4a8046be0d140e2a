#!/usr/bin/env bash
# Trains a model pack end to end on a synthetic Interactive-PEDES-format dataset with the tiny
# models (CPU, minutes), installs it, and compares it with its untrained counterpart in
# `interreid bench interactive`. It is the worked example of the training commands: replace the
# synthetic data by your own annotation file, the tiny configs by the real ones
# (clip-reid-vit-b-16, a LLaVA-OneVision base), and the short schedules by the configs' defaults.
#
#   bash scripts/train_synthetic_pack.sh OUT
#
# Sizes come from the environment (defaults in brackets): IDS [400] identities x 2 images, a
# quarter of them in the test split; RET_EPOCHS [30] of batches of RET_BATCH [32] on RET_TEXT
# [fine-grained_description] (IRRA's; 'dialogue' trains on the interview's query); SEL_EPOCHS [5]
# (a one-layer selector on pools of 60); SFT_LIMIT [600] prepared rounds for the questioner (two
# epochs); JOINT_LIMIT [600] (half an epoch of it for joint); BENCH_LIMIT [60] test queries of
# BENCH_ROUNDS [5] rounds with BENCH_METHODS [initial,infogain] on both packs, then the trained
# pack's LLaVA questioner on LLAVA_LIMIT [20] queries. INTERREID: the command to run
# [interreid]. Each stage writes log.csv and curve.png in its folder under OUT; OUT/bench-*.json
# hold the benchmark figures.
set -euo pipefail
out="${1:?usage: train_synthetic_pack.sh OUT}"
ir="${INTERREID:-interreid}"
ids="${IDS:-400}"
mkdir -p "$out"
cd "$out"
data=data/annotations.json
tiny=clip-reid-tiny

step() { echo "== $*" >&2; }

step "synthetic data: $ids identities"
[ -f "$data" ] || $ir data synth data --ids "$ids" --images-per-id 2 --test-fraction 0.25 --size 64x32 --seed 1

step "the untrained counterpart (random CLIP, selector and tiny LLaVA-OneVision); its questioner base is the one trained"
[ -f untrained/manifest.json ] || $ir pack build untrained --random-weights --config $tiny --random-selector \
  --random-questioner --name synthetic-untrained
base=untrained/questioner/base

step "retriever: IRRA (SDM + ID + MLM)"
[ -f train-retriever/result.json ] || $ir train retriever --out train-retriever --json train-retriever.json \
  --set data.annotations=$data --set model.config=$tiny --set mlm.depth=1 --set train.warmup_epochs=1 \
  --set train.epochs="${RET_EPOCHS:-30}" --set train.batch_size="${RET_BATCH:-32}" --set train.lr=2e-3 \
  --set data.text="${RET_TEXT:-fine-grained_description}"
[ -f retriever-pack/manifest.json ] || $ir pack build retriever-pack --irra train-retriever/best.pth --config $tiny \
  --name synthetic-retriever

step "looking-forward supervision, ranked by the trained retriever"
[ -f train-prepare/stats.json ] || $ir train prepare --pack retriever-pack --out train-prepare \
  --json train-prepare.json --set data.annotations=$data
prepared=train-prepare/prepared.jsonl

step "selector warm-up"
[ -f train-selector/result.json ] || $ir train selector --out train-selector --json train-selector.json \
  --set data.annotations=$data --set data.prepared=$prepared --set retriever.config=$tiny \
  --set retriever.checkpoint=train-retriever/best.pth --set "model={layers: 1, ffn: 512}" --set pool=60 \
  --set train.lr=3e-4 --set train.epochs="${SEL_EPOCHS:-5}"

step "questioner SFT (LoRA on the tiny base)"
[ -f train-questioner/result.json ] || $ir train questioner --out train-questioner --json train-questioner.json \
  --set data.prepared=$prepared --set model.base=$base --set data.limit="${SFT_LIMIT:-600}" --set lora.r=32 \
  --set lora.lora_alpha=64 --set train.lr=1e-2 --set train.epochs=2 --set train.grad_accum=4 \
  --set train.gradient_checkpointing=false

step "joint: selector + questioner"
[ -f train-joint/result.json ] || $ir train joint --out train-joint --json train-joint.json \
  --set data.annotations=$data --set data.prepared=$prepared --set data.limit="${JOINT_LIMIT:-600}" \
  --set retriever.config=$tiny --set retriever.checkpoint=train-retriever/best.pth \
  --set selector.init=train-selector/selector --set model.base=$base --set model.adapter=train-questioner/adapter \
  --set train.lr=1e-3 --set train.selector_lr=1e-4 --set train.grad_accum=8 --set train.gradient_checkpointing=false

step "the trained pack"
[ -f trained/manifest.json ] || $ir pack build trained --irra train-retriever/best.pth --config $tiny \
  --selector train-joint/selector --questioner-base $base --questioner-adapter train-joint/adapter \
  --name synthetic-trained --source "scripts/train_synthetic_pack.sh on synthetic data ($ids identities)"
$ir pack verify trained
$ir pack install trained

step "bench interactive: trained against untrained"
for pack in untrained trained; do
  [ -f "bench-$pack.json" ] || $ir bench interactive --data $data --images data --engine full --pack $pack \
    --method "${BENCH_METHODS:-initial,infogain}" --selector learned --answerer attributes \
    --limit "${BENCH_LIMIT:-60}" --rounds "${BENCH_ROUNDS:-5}" --cache bench-cache --json "bench-$pack.json" \
    --plot "bench-$pack.png"
done
# The trained pack's own questioner. (The untrained one writes 96 tokens of noise three times a
# round on the CPU before infogain takes over: slow, and it shows nothing.)
step "bench interactive: the trained pack's LLaVA questioner"
[ -f bench-trained-llava.json ] || $ir bench interactive --data $data --images data --engine full --pack trained \
  --method initial,infogain,llava --selector learned --answerer attributes --limit "${LLAVA_LIMIT:-20}" \
  --rounds "${BENCH_ROUNDS:-5}" --cache bench-cache --json bench-trained-llava.json
