import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { documentForPath, InvalidDocumentError, parseDocument, renderDocument, strongEtag } from '../../../src/discovery/discovery-document.js';

const config = { issuer: 'https://kubernetes.default.svc', jwks_uri: 'https://10.0.0.1/openid/v1/jwks', response_types_supported: ['id_token'] };

describe('documentForPath', () => {
  it.each([
    ['/.well-known/openid-configuration', 'openid-configuration'],
    ['/openid/v1/jwks', 'jwks'],
    ['/.well-known/openid-configuration/', undefined],
    ['/openid/v1/jwks/', undefined],
    ['/openid/v1', undefined],
    ['/api', undefined],
    ['/OPENID/V1/JWKS', undefined],
  ])('%s serves %s', (path, kind) => {
    expect(documentForPath(path)).toBe(kind);
  });
});

describe('parseDocument', () => {
  it('accepts a discovery document with issuer and jwks_uri', () => {
    expect(parseDocument('openid-configuration', Buffer.from(JSON.stringify(config)))).toEqual(config);
  });

  it('accepts a JWKS with a keys array (empty included)', () => {
    expect(parseDocument('jwks', Buffer.from('{"keys":[]}'))).toEqual({ keys: [] });
  });

  it.each([
    ['openid-configuration', '{"issuer":"x"', 'the body is not JSON'],
    ['openid-configuration', '[]', 'the body is not a JSON object'],
    ['openid-configuration', 'null', 'the body is not a JSON object'],
    ['openid-configuration', '{"jwks_uri":"https://x/keys"}', 'the discovery document has no issuer'],
    ['openid-configuration', '{"issuer":"https://x"}', 'the discovery document has no jwks_uri'],
    ['openid-configuration', '{"issuer":"https://x","jwks_uri":7}', 'the discovery document has no jwks_uri'],
    ['jwks', '{}', 'the JWKS has no keys array of objects'],
    ['jwks', '{"keys":{}}', 'the JWKS has no keys array of objects'],
    ['jwks', '{"keys":["a"]}', 'the JWKS has no keys array of objects'],
  ] as const)('a %s body %s is refused: %s', (kind, body, message) => {
    expect(() => parseDocument(kind, Buffer.from(body))).toThrow(new InvalidDocumentError(message));
  });
});

describe('renderDocument', () => {
  it('serves compact JSON unchanged without a public URL', () => {
    expect(renderDocument('openid-configuration', config, { pretty: false }).toString()).toBe(JSON.stringify(config));
  });

  it('rewrites jwks_uri to the public URL and keeps the issuer', () => {
    const served = JSON.parse(renderDocument('openid-configuration', config, { pretty: false, publicUrl: 'https://oidc.example.com/a' }).toString());
    expect(served).toEqual({ ...config, jwks_uri: 'https://oidc.example.com/a/openid/v1/jwks' });
  });

  it('never rewrites the JWKS', () => {
    const jwks = { keys: [{ kid: '1' }], jwks_uri: 'untouched' };
    expect(JSON.parse(renderDocument('jwks', jwks, { pretty: false, publicUrl: 'https://x' }).toString())).toEqual(jwks);
  });

  it('pretty-prints with two spaces and a final newline', () => {
    expect(renderDocument('jwks', { keys: [] }, { pretty: true }).toString()).toBe('{\n  "keys": []\n}\n');
  });
});

describe('strongEtag', () => {
  it('is the quoted SHA-256 of the served bytes, so equal bytes give equal tags', () => {
    const bytes = Buffer.from('{"keys":[]}');
    expect(strongEtag(bytes)).toBe(`"${createHash('sha256').update(bytes).digest('hex')}"`);
    expect(strongEtag(Buffer.from('{"keys":[]}'))).toBe(strongEtag(bytes));
    expect(strongEtag(Buffer.from('{"keys":[1]}'))).not.toBe(strongEtag(bytes));
  });
});
