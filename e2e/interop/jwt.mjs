// VC-JWTs signed with panva's `jose` (the most used JOSE library on npm) for Guildmark
// to verify (driven by e2e/tests/e2e/open_badges.rs).
//
//   node jwt.mjs sign OUT.json   → [{name, token | presentation, expect}]: expect is the exit code
//                                  `guildmark verify` must give: 0 verified, 1 failed,
//                                  3 could not be fully verified; a presentation (unsigned,
//                                  carrying an enveloped VC-JWT) is for the test to sign
//
// Keys are fresh Ed25519, P-256 and RSA-2048 pairs; the issuer is a did:key (Ed25519,
// P-256) or a did:jwk (RSA), named in the header's kid or carried as its jwk.
import crypto from 'node:crypto';
import fs from 'node:fs';

import * as jose from 'jose';
import * as base58 from 'base58-universal';

const b64url = bytes => Buffer.from(bytes).toString('base64url');

async function didKey(alg) {
  const {publicKey, privateKey} = await jose.generateKeyPair(alg, {extractable: true});
  const jwk = await jose.exportJWK(publicKey);
  let did;
  if(alg === 'EdDSA') {
    const raw = Buffer.from(jwk.x, 'base64url');
    did = 'did:key:z' + base58.encode(Buffer.concat([Buffer.from([0xed, 0x01]), raw]));
  } else if(alg === 'ES256') {
    const x = Buffer.from(jwk.x, 'base64url');
    const y = Buffer.from(jwk.y, 'base64url');
    const compressed = Buffer.concat([Buffer.from([2 + (y[31] & 1)]), x]);
    did = 'did:key:z' + base58.encode(Buffer.concat([Buffer.from([0x80, 0x24]), compressed]));
  } else {
    did = 'did:jwk:' + b64url(JSON.stringify(jwk));
  }
  const kid = did.startsWith('did:key:') ? `${did}#${did.slice(8)}` : `${did}#0`;
  return {did, kid, jwk, privateKey};
}

function badge(issuer, overrides = {}) {
  return {
    '@context': [
      'https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'
    ],
    id: `urn:uuid:${crypto.randomUUID()}`,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: {id: issuer, type: ['Profile'], name: 'Harbour Maker Space', url: 'https://harbour.example'},
    validFrom: '2026-01-01T00:00:00Z',
    name: 'Soldering, level 1',
    credentialSubject: {
      id: 'did:example:ada',
      type: ['AchievementSubject'],
      achievement: {
        id: 'https://harbour.example/achievements/soldering-1',
        type: ['Achievement'],
        name: 'Soldering, level 1',
        description: 'Solders through-hole parts cleanly.',
        criteria: {narrative: 'Forty good joints on the practice board.'}
      }
    },
    ...overrides
  };
}

const seconds = t => Math.floor(Date.parse(t) / 1000);

// OB 3.0 §8.2: the credential in the vc claim, registered claims mirroring it.
async function obJwt(key, alg, credential, {claims = {}, header = {}} = {}) {
  const payload = {
    vc: credential, iss: credential.issuer.id, jti: credential.id,
    sub: credential.credentialSubject.id, nbf: seconds(credential.validFrom),
    ...(credential.validUntil ? {exp: seconds(credential.validUntil)} : {}),
    ...claims
  };
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({alg, typ: 'JWT', kid: key.kid, ...header})
    .sign(key.privateKey);
}

// VC-JOSE-COSE: the credential is the payload.
async function joseCose(key, alg, credential) {
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(credential)))
    .setProtectedHeader({alg, typ: 'vc+jwt', cty: 'vc', kid: key.kid})
    .sign(key.privateKey);
}

function tamper(token) {
  const [h, p, s] = token.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url'));
  const vc = payload.vc || payload;
  vc.name = 'Master electrician';
  return [h, b64url(JSON.stringify(payload)), s].join('.');
}

async function sign(file) {
  const ed = await didKey('EdDSA');
  const p256 = await didKey('ES256');
  const rsa = await didKey('RS256');
  const out = [];
  const add = (name, token, expect) => out.push({name, token, expect});

  const edBadge = badge(ed.did);
  add('EdDSA, OB 3.0 vc claim, kid did:key', await obJwt(ed, 'EdDSA', edBadge), 0);
  add('ES256, OB 3.0 vc claim, kid did:key (P-256)', await obJwt(p256, 'ES256', badge(p256.did)), 0);
  const rsaJwk = {...rsa.jwk};
  add('RS256, OB 3.0 vc claim, embedded jwk, issuer did:jwk',
    await obJwt(rsa, 'RS256', badge(rsa.did), {header: {kid: undefined, jwk: rsaJwk}}), 0);
  add('RS256, kid did:jwk', await obJwt(rsa, 'RS256', badge(rsa.did)), 0);
  add('ES256, VC-JOSE-COSE payload', await joseCose(p256, 'ES256', badge(p256.did)), 0);
  add('EdDSA, VC-JOSE-COSE payload', await joseCose(ed, 'EdDSA', badge(ed.did)), 0);

  add('EdDSA, payload changed after signing', tamper(await obJwt(ed, 'EdDSA', badge(ed.did))), 1);
  add('ES256, VC-JOSE-COSE payload changed after signing',
    tamper(await joseCose(p256, 'ES256', badge(p256.did))), 1);
  add('iss is not the issuer', await obJwt(ed, 'EdDSA', badge(ed.did), {claims: {iss: p256.did}}), 1);
  add('jti is not the credential id',
    await obJwt(ed, 'EdDSA', badge(ed.did), {claims: {jti: 'urn:uuid:00000000-0000-4000-8000-000000000000'}}), 1);
  add('nbf is not validFrom', await obJwt(ed, 'EdDSA', badge(ed.did), {claims: {nbf: 1}}), 1);
  add('signed by another key than the issuer\'s', await obJwt(p256, 'ES256', badge(ed.did)), 1);
  add('expired (validUntil and exp passed)', await obJwt(ed, 'EdDSA',
    badge(ed.did, {validUntil: '2026-02-01T00:00:00Z'})), 1);
  add('kid on did:web, not resolvable offline',
    await obJwt(ed, 'EdDSA', badge(ed.did), {header: {kid: 'did:web:harbour.example#key-1'}}), 3);
  const presentation = credential => ({
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    type: ['VerifiablePresentation'],
    verifiableCredential: [{
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      id: `data:application/vc+jwt,${credential}`,
      type: 'EnvelopedVerifiableCredential'
    }]
  });
  out.push({name: 'enveloped in a presentation', presentation: presentation(await joseCose(ed, 'EdDSA', badge(ed.did))), expect: 0});
  out.push({name: 'tampered, enveloped in a presentation',
    presentation: presentation(tamper(await joseCose(ed, 'EdDSA', badge(ed.did)))), expect: 1});
  fs.writeFileSync(file, JSON.stringify(out, null, 1));
  console.log(JSON.stringify({signed: out.length}));
}

const [mode, ...args] = process.argv.slice(2);
if(mode === 'sign') {
  await sign(args[0]);
} else {
  console.error('usage: node jwt.mjs sign OUT.json');
  process.exit(2);
}
