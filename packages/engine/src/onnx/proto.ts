// A minimal protobuf writer: exactly the wire types ONNX's ModelProto needs (varint, 64-bit-free
// fixed32 floats, length-delimited bytes/strings/messages). No dependency, no reflection.

const enc = new TextEncoder();

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = new Uint8Array(Math.max(n, this.buf.length * 2));
  }
  private flush(): void {
    if (this.pos > 0) this.chunks.push(this.buf.slice(0, this.pos));
    this.pos = 0;
  }

  /** Unsigned varint; negative int64 values take 10 bytes (two's complement), as protobuf wants. */
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (x >= 0x80n) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
  }
  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }
  float(field: number, v: number): void {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat32(this.pos, v, true);
    this.pos += 4;
  }
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.flush();
    this.chunks.push(b);
  }
  string(field: number, s: string): void {
    this.bytes(field, enc.encode(s));
  }
  message(field: number, build: (w: ProtoWriter) => void): void {
    const w = new ProtoWriter();
    build(w);
    this.bytes(field, w.finish());
  }
  finish(): Uint8Array {
    this.flush();
    const total = this.chunks.reduce((s, c) => s + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
