// bench_iso_8583.js: the npm package iso_8583 (a popular JavaScript ISO 8583
// library) on the same 0200 purchase bench-iso8583 measures, for the
// comparison in docs/performance.md. Run by scripts/bench-js.sh, which
// installs the package under build/js (never into the repository).
// The same kind of 0200 purchase as bench-iso8583 (17 fields), packed with
// getBufferMessage() (ASCII fields, binary bitmap, 2-byte length) and
// unpacked with getIsoJSON().
const iso8583 = require(process.env.ISO_8583_MODULE || 'iso_8583');
const data = {
  0: "0200", 2: "6222020000000001", 3: "000000", 4: "000000012850",
  7: "1125103000", 11: "000123", 12: "103000", 13: "1125", 14: "2912",
  22: "051", 25: "00", 32: "48020000", 35: "6222020000000001D29121011758928889",
  37: "533000000123", 41: "TERM0001", 42: "MERCHANT0000001",
  43: "Three Squirrels".padEnd(25) + "Wuhu".padEnd(13) + "CN", 49: "156"
};
const raw = new iso8583(data).getBufferMessage(); // getIsoJSON reads the 2-byte length too
function bench(label, fn) {
  const rates = [];
  for (let run = 0; run < 5; run++) {
    const n = 20000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    const ns = Number(process.hrtime.bigint() - t0);
    rates.push(n / (ns / 1e9));
  }
  rates.sort((a, b) => a - b);
  console.log(label.padEnd(14), Math.round(rates[2]), "msg/s (median of 5)");
}
bench("pack", () => new iso8583(data).getBufferMessage());
bench("unpack", () => new iso8583().getIsoJSON(raw));
bench("unpack+pack", () => { const j = new iso8583().getIsoJSON(raw); new iso8583(j).getBufferMessage(); });
