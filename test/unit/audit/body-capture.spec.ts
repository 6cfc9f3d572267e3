import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { deflateSync, gzipSync } from 'node:zlib';
import { BodyCapture, captureWrites, decodeBody } from '../../../src/audit/body-capture.js';

describe('BodyCapture', () => {
  it('keeps a body seen whole within the cap, whatever the chunk types', () => {
    const sut = new BodyCapture(16);
    sut.add(Buffer.from('{"a":'));
    sut.add('1', 'utf8');
    sut.add(new Uint8Array([0x7d]));
    expect(sut.whole()).toBeUndefined(); // not ended yet
    sut.end();
    expect(sut.whole()!.toString()).toBe('{"a":1}');
  });

  it('drops the whole copy at the first byte over the cap', () => {
    const sut = new BodyCapture(4);
    sut.add('abcd');
    sut.add('e');
    sut.end();
    expect(sut.whole()).toBeUndefined();
  });
});

describe('captureWrites', () => {
  it('copies every write and the end chunk, and the stream still gets every byte', async () => {
    const stream = new PassThrough();
    const received: Buffer[] = [];
    stream.on('data', (c: Buffer) => received.push(c));
    const capture = new BodyCapture();
    captureWrites(stream as unknown as Parameters<typeof captureWrites>[0], capture);
    stream.write('{"kind":');
    stream.write(Buffer.from('"Pod"'));
    stream.end('}');
    await new Promise((r) => stream.once('end', r));
    expect(Buffer.concat(received).toString()).toBe('{"kind":"Pod"}');
    expect(capture.whole()!.toString()).toBe('{"kind":"Pod"}');
  });
});

describe('decodeBody', () => {
  const body = Buffer.from('{"kind":"PodList","items":[]}');

  it.each([
    ['no encoding', undefined, body],
    ['identity', 'identity', body],
    ['gzip', 'gzip', gzipSync(body)],
    ['deflate', 'deflate', deflateSync(body)],
  ])('decodes %s', (_name, encoding, bytes) => {
    expect(decodeBody(bytes, encoding)!.toString()).toBe(body.toString());
  });

  it('an encoding it does not know, a corrupt body, and a body over the cap once decoded give nothing', () => {
    expect(decodeBody(body, 'br')).toBeUndefined();
    expect(decodeBody(Buffer.from('not gzip'), 'gzip')).toBeUndefined();
    expect(decodeBody(gzipSync(Buffer.alloc(4096, 'a')), 'gzip', 1024)).toBeUndefined();
  });
});
