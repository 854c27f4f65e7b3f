// Digital Bazaar's VC libraries against Guildmark (driven by e2e/tests/e2e/interop_db.rs).
//
//   node db.mjs verify IN.json   IN: [{name, credential}] → [{name, verified, errors}]
//   node db.mjs sign N OUT.json  N random credentials, random keys, both cryptosuites
//   node db.mjs status IN.json   IN: [status list credentials] → [{id, purpose, set: [index…]}]
//   node db.mjs canonize IN.json IN: [{name, document}] → [{name, nquads} | {name, error}]:
//                                RDFC-1.0 canonical N-Quads through jsonld.js in safe mode
//   node db.mjs bench IN.json    IN: [{name, credential}] (eddsa-rdfc-2022), timed: verify each,
//                                then sign each again → {n, verified, verifyMs, signMs} per badge
//   node db.mjs displayer OUT.json  Open Badges issued by Digital Bazaar's libraries, as
//                                another platform would: [{name, credential, statusList?,
//                                expect}] (VCDM 2.0 and 1.1, valid, expired, revoked and not
//                                revoked through a signed status list, and tampered copies)
//   node db.mjs sd OUT.json      Open Badges signed ecdsa-sd-2023 (a fresh P-256 key) and
//                                derived (selectively disclosed) by Digital Bazaar's
//                                libraries, checked by them: [{name, credential, expect}]
//   node db.mjs live IN.json     IN: [{name, credential}] → [{name, verified, status, errors}]:
//                                verified as issued (eddsa-rdfc-2022 only, as an Open Badges
//                                relying party would) with @digitalbazaar/vc-bitstring-status-list
//                                checking status against the list fetched from the node
//                                (GUILDMARK_NODE_URL; the only network access), its proof
//                                verified and its issuer matched
//
// Documents are loaded offline only: the JSON-LD contexts from GUILDMARK_CONTEXTS_DIR
// (an index.json mapping URL → file, e.g. testdata/contexts), Guildmark's own
// context from GUILDMARK_CONTEXT_FILE, and did:key documents computed from the DID.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {driver} from '@digitalbazaar/did-method-key';
import {
  createSignCryptosuite as jcsSign,
  createVerifyCryptosuite as jcsVerify
} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {cryptosuite as rdfc} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import {
  createDiscloseCryptosuite, createSignCryptosuite as sdSign,
  createVerifyCryptosuite as sdVerify
} from '@digitalbazaar/ecdsa-sd-2023-cryptosuite';
import {
  BitstringStatusList, checkStatus as checkBitstringStatus,
  createList, createCredential as createStatusListCredential
} from '@digitalbazaar/vc-bitstring-status-list';
import jsonld from 'jsonld';

const contextsDir = process.env.GUILDMARK_CONTEXTS_DIR;
const guildmarkContext = process.env.GUILDMARK_CONTEXT_FILE;
if(!contextsDir || !guildmarkContext) {
  console.error('set GUILDMARK_CONTEXTS_DIR and GUILDMARK_CONTEXT_FILE');
  process.exit(2);
}
const contexts = new Map();
const index = JSON.parse(fs.readFileSync(path.join(contextsDir, 'index.json'))).contexts;
for(const [url, file] of Object.entries(index)) {
  contexts.set(url, JSON.parse(fs.readFileSync(path.join(contextsDir, file))));
}
contexts.set('https://w3id.org/guildmark/v1', JSON.parse(fs.readFileSync(guildmarkContext)));

const didKey = driver();
didKey.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});
didKey.use({multibaseMultikeyHeader: 'zDna', fromMultibase: EcdsaMultikey.from});

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if(url.startsWith('did:key:')) {
    const document = await didKey.get({url});
    return {contextUrl: null, documentUrl: url, document};
  }
  throw new Error(`${url} is not available offline`);
}

// Status is checked separately (`status` mode): the library reports it apart anyway.
const checkStatus = async () => ({verified: true});

function errors(result) {
  const found = [];
  const walk = e => {
    if(!e) {
      return;
    }
    if(Array.isArray(e)) {
      e.forEach(walk);
      return;
    }
    found.push(String(e.message || e));
    walk(e.errors);
  };
  walk(result.error);
  for(const r of result.results || []) {
    walk(r.error);
  }
  return found;
}

async function verify(file) {
  const items = JSON.parse(fs.readFileSync(file));
  const out = [];
  for(const {name, credential} of items) {
    const suite = [
      new DataIntegrityProof({cryptosuite: jcsVerify()}),
      new DataIntegrityProof({cryptosuite: rdfc})
    ];
    let result;
    try {
      result = await vc.verifyCredential({credential, suite, documentLoader, checkStatus});
    } catch(e) {
      result = {verified: false, error: e};
    }
    out.push({name, verified: result.verified, errors: result.verified ? [] : errors(result)});
  }
  console.log(JSON.stringify(out));
}

// Random text with the characters canonicalization is most likely to get wrong.
function text() {
  const alphabet = ['a', 'Z', ' ', 'é', 'ß', '€', '日本', '😀', '"', '\\', '\n', '\t',
    '\u0007', '\u007f', '\u2028', '<', '&', '%', 'ü'];
  let s = '';
  const n = crypto.randomInt(1, 24);
  for(let i = 0; i < n; i++) {
    s += alphabet[crypto.randomInt(alphabet.length)];
  }
  return s;
}

function number() {
  const choices = [
    () => crypto.randomInt(-1e6, 1e6),
    () => Math.fround(Math.random() * 1000),
    () => (Math.random() - 0.5) * 1e21,
    () => Math.random() * 1e-7,
    () => 2 ** 53,
    () => 0.1 + 0.2
  ];
  return choices[crypto.randomInt(choices.length)]();
}

function subject(depth) {
  const s = {id: `urn:uuid:${crypto.randomUUID()}`, name: text()};
  const fields = crypto.randomInt(0, 5);
  for(let i = 0; i < fields; i++) {
    const key = ['description', 'score', 'tags', 'knows', 'flag'][crypto.randomInt(5)];
    if(key === 'score') {
      s.score = number();
    } else if(key === 'tags') {
      s.tags = Array.from({length: crypto.randomInt(0, 4)}, text);
    } else if(key === 'knows' && depth < 2) {
      s.knows = subject(depth + 1);
    } else if(key === 'flag') {
      s.flag = crypto.randomInt(2) === 1;
    } else {
      s.description = text();
    }
  }
  return s;
}

async function sign(n, file) {
  const out = [];
  for(let i = 0; i < n; i++) {
    const key = await Ed25519Multikey.generate();
    const did = `did:key:${key.publicKeyMultibase}`;
    key.controller = did;
    key.id = `${did}#${key.publicKeyMultibase}`;
    const useRdfc = i % 2 === 1;
    const credential = {
      '@context': [
        'https://www.w3.org/ns/credentials/v2',
        'https://www.w3.org/ns/credentials/examples/v2'
      ],
      id: `urn:uuid:${crypto.randomUUID()}`,
      type: ['VerifiableCredential', 'ExampleCredential'],
      issuer: did,
      validFrom: '2026-01-01T00:00:00Z',
      name: text(),
      credentialSubject: subject(0)
    };
    const suite = new DataIntegrityProof({
      signer: key.signer(),
      cryptosuite: useRdfc ? rdfc : jcsSign()
    });
    const signed = await vc.issue({credential, suite, documentLoader});
    out.push({name: `db-${useRdfc ? 'rdfc' : 'jcs'}-${i}`, credential: signed});
  }
  fs.writeFileSync(file, JSON.stringify(out, null, 1));
  console.log(JSON.stringify({signed: out.length}));
}

async function status(file) {
  const lists = JSON.parse(fs.readFileSync(file));
  const out = [];
  for(const list of lists) {
    const subjectOf = list.credentialSubject;
    const decoded = await BitstringStatusList.decode({encodedList: subjectOf.encodedList});
    const set = [];
    for(let i = 0; i < decoded.length; i++) {
      if(decoded.getStatus(i)) {
        set.push(i);
      }
    }
    out.push({id: list.id, purpose: subjectOf.statusPurpose, length: decoded.length, set});
  }
  console.log(JSON.stringify(out));
}

async function canonize(file) {
  const items = JSON.parse(fs.readFileSync(file));
  const out = [];
  for(const {name, document} of items) {
    try {
      const nquads = await jsonld.canonize(document, {
        algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true
      });
      out.push({name, nquads});
    } catch(e) {
      out.push({name, error: String(e.message || e)});
    }
  }
  console.log(JSON.stringify(out));
}

// eddsa-rdfc-2022 verify and sign, timed per badge over every input (after a warm-up of
// 64), for scripts/bench-rdfc's side-by-side figures.
async function bench(file) {
  const items = JSON.parse(fs.readFileSync(file));
  const suite = new DataIntegrityProof({cryptosuite: rdfc});
  const verifyOne = credential =>
    vc.verifyCredential({credential, suite, documentLoader, checkStatus});
  for(const {credential} of items.slice(0, 64)) {
    await verifyOne(credential);
  }
  let verified = 0;
  let start = performance.now();
  for(const {credential} of items) {
    if((await verifyOne(credential)).verified) {
      verified++;
    }
  }
  const verifyMs = (performance.now() - start) / items.length;
  const key = await Ed25519Multikey.generate();
  key.controller = `did:key:${key.publicKeyMultibase}`;
  key.id = `${key.controller}#${key.publicKeyMultibase}`;
  const signer = new DataIntegrityProof({signer: key.signer(), cryptosuite: rdfc});
  const unsigned = items.map(({credential}) => {
    const copy = structuredClone(credential);
    delete copy.proof;
    return copy;
  });
  for(const credential of unsigned.slice(0, 64)) {
    await vc.issue({credential: structuredClone(credential), suite: signer, documentLoader});
  }
  start = performance.now();
  for(const credential of unsigned) {
    await vc.issue({credential, suite: signer, documentLoader});
  }
  const signMs = (performance.now() - start) / unsigned.length;
  console.log(JSON.stringify({n: items.length, verified, verifyMs, signMs}));
}

// The node's own documents (status lists) over HTTP; everything else offline.
async function liveLoader(url) {
  const node = process.env.GUILDMARK_NODE_URL;
  if(node && url.startsWith(`${node}/`)) {
    const response = await fetch(url);
    if(!response.ok) {
      throw new Error(`${url}: HTTP ${response.status}`);
    }
    return {contextUrl: null, documentUrl: url, document: await response.json()};
  }
  return documentLoader(url);
}

async function live(file) {
  const items = JSON.parse(fs.readFileSync(file));
  const suite = new DataIntegrityProof({cryptosuite: rdfc});
  const checkStatus = ({credential}) => checkBitstringStatus({
    credential, documentLoader: liveLoader, suite,
    verifyBitstringStatusListCredential: true, verifyMatchingIssuers: true
  });
  const out = [];
  for(const {name, credential} of items) {
    let result;
    try {
      result = await vc.verifyCredential({
        credential, suite, documentLoader: liveLoader, checkStatus
      });
    } catch(e) {
      result = {verified: false, error: e};
    }
    const status = result.statusResult ? {
      verified: result.statusResult.verified,
      set: result.statusResult.results?.map(r => r.status),
      error: result.statusResult.error ? String(result.statusResult.error.message) : undefined
    } : null;
    out.push({name, verified: result.verified, status, errors: result.verified ? [] : errors(result)});
  }
  console.log(JSON.stringify(out));
}

// Open Badges issued by another platform (Digital Bazaar's libraries, a fresh key) for
// Guildmark's verifier to display: `expect` is guildmark verify's exit code.
async function displayer(file) {
  const key = await Ed25519Multikey.generate();
  const did = `did:key:${key.publicKeyMultibase}`;
  key.controller = did;
  key.id = `${did}#${key.publicKeyMultibase}`;
  const suite = new DataIntegrityProof({signer: key.signer(), cryptosuite: rdfc});
  const OB = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';
  const listId = 'https://harbour.example/status/1';
  const badge = (v1, extra = {}) => ({
    '@context': v1 ?
      ['https://www.w3.org/2018/credentials/v1', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json',
        'https://w3id.org/security/data-integrity/v2',
        ...(extra.credentialStatus ? ['https://www.w3.org/ns/credentials/status/v1'] : [])] :
      ['https://www.w3.org/ns/credentials/v2', OB],
    id: `urn:uuid:${crypto.randomUUID()}`,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: {id: did, type: ['Profile'], name: 'Harbour Maker Space', url: 'https://harbour.example'},
    ...(v1 ? {issuanceDate: '2026-01-01T00:00:00Z'} : {validFrom: '2026-01-01T00:00:00Z'}),
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
    ...extra
  });
  const entry = (index, v1) => ({
    id: `${listId}#${index}`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation',
    statusListIndex: String(index), statusListCredential: listId
  });
  const list = await createList({length: 131072});
  list.setStatus(7, true);
  const sign = credential => vc.issue({credential, suite, documentLoader});
  const out = [];
  const add = async (name, credential, expect, withList) => {
    const signed = await sign(credential);
    out.push({name, credential: signed, expect, ...(withList ? {withList: true} : {})});
    const tampered = structuredClone(signed);
    tampered.credentialSubject.achievement.name = 'Master electrician';
    out.push({name: `${name}, tampered`, credential: tampered, expect: 1, ...(withList ? {withList: true} : {})});
  };
  await add('VCDM 2.0, valid', badge(false), 0);
  await add('VCDM 1.1, valid', badge(true), 0);
  await add('VCDM 2.0, expired', badge(false, {validUntil: '2026-03-01T00:00:00Z'}), 1);
  await add('VCDM 1.1, expired', badge(true, {expirationDate: '2026-03-01T00:00:00Z'}), 1);
  await add('VCDM 2.0, revoked', badge(false, {credentialStatus: entry(7)}), 1, true);
  await add('VCDM 2.0, not revoked', badge(false, {credentialStatus: entry(8)}), 0, true);
  await add('VCDM 1.1, revoked', badge(true, {credentialStatus: entry(7)}), 1, true);
  const unsignedList = await createStatusListCredential({id: listId, list, statusPurpose: 'revocation'});
  unsignedList.issuer = did;
  unsignedList.validFrom = '2026-01-01T00:00:00Z';
  const statusList = await sign(unsignedList);
  fs.writeFileSync(file, JSON.stringify({cases: out, statusList}, null, 1));
  console.log(JSON.stringify({cases: out.length}));
}

// A badge signed ecdsa-sd-2023 with mandatory issuer, dates and achievement, then derived
// twice (disclosing the narrative, and not), as a holder's wallet would.
async function sd(file) {
  const key = await EcdsaMultikey.generate({curve: 'P-256'});
  const did = `did:key:${key.publicKeyMultibase}`;
  key.controller = did;
  key.id = `${did}#${key.publicKeyMultibase}`;
  const credential = {
    '@context': ['https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: `urn:uuid:${crypto.randomUUID()}`,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: {id: did, type: ['Profile'], name: 'Harbour Maker Space', url: 'https://harbour.example'},
    validFrom: '2026-01-01T00:00:00Z',
    name: 'Soldering, level 1',
    credentialSubject: {
      id: 'did:example:ada',
      type: ['AchievementSubject'],
      narrative: 'Forty joints at the Tuesday workshop.',
      achievement: {
        id: 'https://harbour.example/achievements/soldering-1', type: ['Achievement'],
        name: 'Soldering, level 1', description: 'Solders through-hole parts cleanly.',
        criteria: {narrative: 'Forty good joints on the practice board.'}
      }
    }
  };
  const mandatoryPointers = ['/id', '/issuer', '/validFrom', '/name', '/credentialSubject/type',
    '/credentialSubject/achievement'];
  const base = await vc.issue({
    credential,
    suite: new DataIntegrityProof({signer: key.signer(), cryptosuite: sdSign({mandatoryPointers})}),
    documentLoader
  });
  const derive = selectivePointers => vc.derive({
    verifiableCredential: base,
    suite: new DataIntegrityProof({cryptosuite: createDiscloseCryptosuite({selectivePointers})}),
    documentLoader
  });
  const verifySuite = new DataIntegrityProof({cryptosuite: sdVerify()});
  const out = [];
  for(const [name, pointers] of [
    ['ecdsa-sd-2023, subject and narrative disclosed', ['/credentialSubject/id', '/credentialSubject/narrative']],
    ['ecdsa-sd-2023, only the mandatory statements', []]
  ]) {
    const derived = await derive(pointers);
    const theirs = await vc.verifyCredential({credential: derived, suite: verifySuite, documentLoader, checkStatus});
    out.push({name, credential: derived, expect: 0, dbVerified: theirs.verified});
    const tampered = structuredClone(derived);
    tampered.credentialSubject.achievement.name = 'Master electrician';
    out.push({name: `${name}, tampered`, credential: tampered, expect: 1});
    if(derived.credentialSubject.narrative) {
      const changed = structuredClone(derived);
      changed.credentialSubject.narrative = 'Never attended.';
      out.push({name: `${name}, disclosed value changed`, credential: changed, expect: 1});
    }
  }
  out.push({name: 'ecdsa-sd-2023 base proof (the holder\'s, not for verifiers)', credential: base, expect: 1});
  fs.writeFileSync(file, JSON.stringify(out, null, 1));
  console.log(JSON.stringify({cases: out.length}));
}

const [mode, ...args] = process.argv.slice(2);
if(mode === 'verify') {
  await verify(args[0]);
} else if(mode === 'sign') {
  await sign(Number(args[0]), args[1]);
} else if(mode === 'status') {
  await status(args[0]);
} else if(mode === 'canonize') {
  await canonize(args[0]);
} else if(mode === 'bench') {
  await bench(args[0]);
} else if(mode === 'sd') {
  await sd(args[0]);
} else if(mode === 'displayer') {
  await displayer(args[0]);
} else if(mode === 'live') {
  await live(args[0]);
} else {
  console.error('usage: node db.mjs verify IN.json | sign N OUT.json | status IN.json | canonize IN.json | bench IN.json | live IN.json');
  process.exit(2);
}
