// A wallet receiving a badge from a Guildmark node over OpenID for Verifiable Credential
// Issuance, with the OpenWallet Foundation's client (@openid4vc/openid4vci, as used by
// Credo) — driven by e2e/tests/e2e/open_badges.rs.
//
//   node wallet.mjs receive OFFER_URI   → {did, credential, refusals}
//
// The wallet resolves the offer and the issuer's metadata, redeems the pre-authorized
// code, fetches a nonce and proves possession of a fresh Ed25519 did:key. Before the
// genuine request it sends, with raw fetch, a proof with a broken signature, one for
// another audience and one over a made-up nonce; after it, the same request again and a
// second redemption of the code. What the node answered to each is in `refusals`.
import crypto from 'node:crypto';

import * as jose from 'jose';
import * as base58 from 'base58-universal';
import {Openid4vciClient} from '@openid4vc/openid4vci';
import {clientAuthenticationAnonymous, setGlobalConfig} from '@openid4vc/oauth2';

// The node under test listens on http://127.0.0.1.
setGlobalConfig({allowInsecureUrls: true});

const {publicKey, privateKey} = await jose.generateKeyPair('EdDSA', {extractable: true});
const publicJwk = await jose.exportJWK(publicKey);
const multibase = 'z' + base58.encode(Buffer.concat([Buffer.from([0xed, 0x01]), Buffer.from(publicJwk.x, 'base64url')]));
const did = `did:key:${multibase}`;
const kid = `${did}#${multibase}`;

const callbacks = {
  fetch: globalThis.fetch,
  clientAuthentication: clientAuthenticationAnonymous(),
  generateRandom: n => crypto.randomBytes(n),
  hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
  signJwt: async (signer, {header, payload}) => {
    const jwt = await new jose.SignJWT(payload).setProtectedHeader(header).sign(privateKey);
    return {jwt, signerJwk: publicJwk};
  }
};

async function proof(claims, header = {}) {
  return new jose.SignJWT(claims)
    .setProtectedHeader({alg: 'EdDSA', typ: 'openid4vci-proof+jwt', kid, ...header})
    .sign(privateKey);
}

async function raw(endpoint, token, body) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {'content-type': 'application/json', authorization: `Bearer ${token}`},
    body: JSON.stringify(body)
  });
  const answer = await response.json().catch(() => ({}));
  return {status: response.status, error: answer.error};
}

async function receive(offerUri) {
  const client = new Openid4vciClient({callbacks});
  const offer = await client.resolveCredentialOffer(offerUri);
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const configurationId = offer.credential_configuration_ids[0];
  const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer, issuerMetadata
  });
  const accessToken = accessTokenResponse.access_token;
  const endpoint = issuerMetadata.credentialIssuer.credential_endpoint;
  const issuer = issuerMetadata.credentialIssuer.credential_issuer;
  const refusals = {};
  const now = Math.floor(Date.now() / 1000);

  let {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
  const request = jwt => ({credential_configuration_id: configurationId, proofs: {jwt: [jwt]}});
  const good = await proof({aud: issuer, iat: now, nonce});
  const [h, p, s] = good.split('.');
  const broken = [h, p, s.slice(0, -4) + (s.endsWith('AAAA') ? 'BBBB' : 'AAAA')].join('.');
  refusals.brokenSignature = await raw(endpoint, accessToken, request(broken));
  refusals.otherAudience = await raw(endpoint, accessToken,
    request(await proof({aud: 'https://elsewhere.example', iat: now, nonce})));
  refusals.madeUpNonce = await raw(endpoint, accessToken,
    request(await proof({aud: issuer, iat: now, nonce: 'not-a-nonce-from-the-node'})));
  refusals.noToken = await raw(endpoint, 'not-a-token', request(good));

  const {jwt} = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: configurationId, signer: {method: 'did', didUrl: kid, alg: 'EdDSA'},
    nonce
  });
  const {credentialResponse} = await client.retrieveCredentials({
    issuerMetadata, accessToken, credentialConfigurationId: configurationId, proofs: {jwt: [jwt]}
  });
  refusals.sameRequestAgain = await raw(endpoint, accessToken, request(jwt));
  const form = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
    'pre-authorized_code': offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code']
  });
  const again = await fetch(issuerMetadata.authorizationServers?.[0]?.token_endpoint ?? `${issuer}/oid4vci/token`, {
    method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: form
  });
  refusals.codeReused = {status: again.status, error: (await again.json()).error};
  const credential = credentialResponse.credentials?.[0]?.credential ?? credentialResponse.credential;
  console.log(JSON.stringify({did, configurationId, credential, refusals}));
}

const [mode, ...args] = process.argv.slice(2);
if(mode === 'receive') {
  await receive(args[0]);
} else {
  console.error('usage: node wallet.mjs receive OFFER_URI');
  process.exit(2);
}
