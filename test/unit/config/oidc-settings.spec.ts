import { describe, expect, it } from '@jest/globals';
import { countPemCertificates, disallowedIssuerProblem, issuerUrlProblems, resolveUsernamePrefix } from '../../../src/config/oidc-settings.js';
import { createTestCa } from '../../fixtures/tls.js';

describe('resolveUsernamePrefix (kube-apiserver legacy flags)', () => {
  it.each([
    ['sub', '', 'https://issuer.example.com#'],
    ['preferred_username', '', 'https://issuer.example.com#'],
    ['email', '', ''],
    ['sub', '-', ''],
    ['email', '-', ''],
    ['email', 'oidc:', 'oidc:'],
    ['sub', 'oidc:', 'oidc:'],
  ])('claim %j with prefix flag %j gives %j', (claim, prefix, expected) => {
    expect(resolveUsernamePrefix('https://issuer.example.com', claim, prefix)).toBe(expected);
  });
});

describe('issuerUrlProblems (kube-apiserver issuer URL rules)', () => {
  it.each(['https://issuer.example.com', 'https://issuer.example.com/', 'https://idp.example.com:8443/realms/k8s'])('%s is acceptable', (url) => {
    expect(issuerUrlProblems(url)).toEqual([]);
  });

  // Go's url.Parse sees no fragment (query) in a bare '#' ('?'), and kube-apiserver checks len(u.Fragment) > 0.
  it.each(['https://issuer.example.com/#', 'https://issuer.example.com/?'])('%s, with an empty fragment or query, is acceptable as in kube-apiserver', (url) => {
    expect(issuerUrlProblems(url)).toEqual([]);
  });

  it.each([
    ['http://issuer.example.com', ['URL scheme must be https']],
    ['https://user@issuer.example.com', ['URL must not contain a username or password']],
    ['https://@issuer.example.com', ['URL must not contain a username or password']],
    ['https://issuer.example.com/a@b', []],
    ['https://issuer.example.com?a=b', ['URL must not contain a query']],
    ['https://issuer.example.com#x', ['URL must not contain a fragment']],
    ['http://u:p@issuer.example.com/?q#f', ['URL scheme must be https', 'URL must not contain a username or password', 'URL must not contain a query', 'URL must not contain a fragment']],
    ['not a url', ['not a valid URL']],
  ])('%s has the problems %j', (url, problems) => {
    expect(issuerUrlProblems(url)).toEqual(problems);
  });
});

describe('disallowedIssuerProblem (vector 105: an OIDC issuer must not be a service-account issuer)', () => {
  it.each([
    ['no service-account issuer', 'https://issuer.example.com', []],
    ['a different issuer', 'https://issuer.example.com', ['https://kubernetes.default.svc']],
    ['an issuer differing by a trailing slash (exact string)', 'https://issuer.example.com/', ['https://issuer.example.com']],
    ['an issuer differing by case (exact string)', 'https://Issuer.example.com', ['https://issuer.example.com']],
  ])('accepts %s', (_name, url, disallowed) => {
    expect(disallowedIssuerProblem(url, disallowed)).toBeUndefined();
  });

  it.each([
    ['the only one', 'https://kubernetes.default.svc', ['https://kubernetes.default.svc'], 'URL must not overlap with disallowed issuers: [https://kubernetes.default.svc]'],
    ['one of several, listed sorted and once like sets.List', 'https://issuer-url', ['a', 'b', 'https://issuer-url', 'c', 'a'], 'URL must not overlap with disallowed issuers: [a b c https://issuer-url]'],
    ['one carrying a password, never echoed', 'https://u:p@sa', ['https://u:p@sa'], 'URL must not overlap with disallowed issuers: [<omitted>]'],
  ])('refuses an issuer equal to %s', (_name, url, disallowed, problem) => {
    expect(disallowedIssuerProblem(url, disallowed)).toBe(problem);
  });
});

describe('countPemCertificates', () => {
  const ca = createTestCa();
  const leaf = ca.issue('leaf');

  it.each([
    ['a CA certificate', ca.caPem, 1],
    ['a bundle of two', `${ca.caPem}\n${leaf.certPem}`, 2],
    ['a private key', leaf.keyPem, 0],
    ['a damaged certificate', ca.caPem.replace(/\n[A-Za-z0-9+/]{20}/, '\n'), 0],
    ['nothing', '', 0],
  ])('finds in %s %d certificate(s)', (_what, pem, count) => {
    expect(countPemCertificates(pem)).toBe(count);
  });
});
