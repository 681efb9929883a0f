# Shared by the benchmark scripts: build once, generate the dataset once per scale, import it into
# a project once per scale. Everything lands in bench/out/ (ignored by git).

build() {
  # The same cached target directory as .ci/run: one build profile, reused.
  if [ -z "${CARGO_TARGET_DIR:-}" ] && [ -d /work ] && [ -w /work ]; then
    export CARGO_TARGET_DIR=/work/cache/target
  fi
  # Built as `cargo test` builds it (the same feature set as CI), so the cached dependencies are
  # reused: a plain `cargo build` of the binary alone resolves other features and rebuilds DataFusion.
  cargo test --release --workspace --no-run --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/kpiflow"
  # Peak RSS comes from GNU time (Debian's package `time`), not the shell's builtin.
  if [ ! -x /usr/bin/time ]; then
    echo "installing GNU time (apt) for peak RSS"
    apt-get install -y -q time >/dev/null || { echo "needs /usr/bin/time (apt-get install -y time)" >&2; exit 1; }
  fi
}

# ensure_generated SCALE: the demo company's exports in bench/out/scale-SCALE (24 months to 2025-12).
ensure_generated() {
  local scale="$1"
  out="bench/out/scale-$scale"
  mkdir -p bench/out
  if [ ! -f "$out/.complete" ]; then
    rm -rf "$out"
    /usr/bin/time -f '%e %M' -o bench/out/generate.time \
      "$bin" --quiet generate --out "$out" --scale "$scale" --seed 7 --end-month 2025-12
    read -r secs kb < bench/out/generate.time
    echo "generate --scale $scale: ${secs} s, peak RSS $((kb / 1024)) MiB"
    touch "$out/.complete"
  fi
}

# ensure_project SCALE: every table of the generated exports imported into bench/out/project-SCALE.
ensure_project() {
  local scale="$1"
  ensure_generated "$scale"
  project="bench/out/project-$scale"
  if [ ! -f "$project/.complete" ]; then
    rm -rf "$project"
    "$bin" --quiet init "$project" >/dev/null
    local started=$SECONDS
    for t in fx_rates ad_spend sessions events contacts stage_changes deals revenue email_campaigns \
             social_posts seo_keywords backlinks costs; do
      "$bin" --quiet --project "$project" import "$t" "$out/$t.csv" >/dev/null
    done
    echo "imported every table of scale $scale in $((SECONDS - started)) s"
    touch "$project/.complete"
  fi
}
