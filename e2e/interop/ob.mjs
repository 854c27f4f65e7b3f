// The Digital Credentials Consortium's Open Badges 3.0 verifier
// (@digitalcredentials/verifier-core, behind the Learner Credential Wallet and
// VerifierPlus) against Guildmark (driven by e2e/tests/e2e/open_badges.rs).
//
//   node ob.mjs verify IN.json   IN: [{name, credential}] →
//                                [{name, checks: {id: valid}, schema: [{schema, valid, errors}], errors}]
//
// It checks the signature, expiry, revocation (fetching the status list from the node
// over HTTP) and 1EdTech's JSON schema (ajv). The schemas it would fetch from
// purl.imsglobal.org are answered from GUILDMARK_SCHEMAS_DIR (the 1EdTech files in
// testdata/open-badges-3/schemas); every other request goes to the network as usual,
// which in the tests means the node on loopback.
import fs from 'node:fs';
import path from 'node:path';

const schemas = process.env.GUILDMARK_SCHEMAS_DIR;
if(!schemas) {
  console.error('set GUILDMARK_SCHEMAS_DIR');
  process.exit(2);
}
const published = {
  'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json':
    'achievementcredential.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json':
    'endorsementcredential.json'
};
const networkFetch = globalThis.fetch;
globalThis.fetch = async (url, options) => {
  const file = published[String(url)];
  if(file) {
    const schema = JSON.parse(fs.readFileSync(path.join(schemas, file)));
    schema.$id = String(url); // published at this URL under another $id
    return new Response(JSON.stringify(schema), {headers: {'content-type': 'application/json'}});
  }
  return networkFetch(url, options);
};

const {verifyCredential} = await import('@digitalcredentials/verifier-core');

async function verify(file) {
  const items = JSON.parse(fs.readFileSync(file));
  const out = [];
  for(const {name, credential} of items) {
    const result = await verifyCredential({credential, knownDIDRegistries: []});
    const checks = {};
    for(const entry of result.log || []) {
      checks[entry.id] = entry.valid;
    }
    const schema = [];
    for(const info of result.additionalInformation || []) {
      for(const r of Array.isArray(info.results) ? info.results : []) {
        schema.push({
          schema: r.schema, valid: r.result.valid,
          errors: (r.result.errors || []).map(e => `${e.instancePath} ${e.message}`)
        });
      }
    }
    const errors = (result.errors || []).map(e => `${e.name}: ${e.message}`);
    out.push({name, checks, schema, errors});
  }
  console.log(JSON.stringify(out));
}

const [mode, ...args] = process.argv.slice(2);
if(mode === 'verify') {
  await verify(args[0]);
} else {
  console.error('usage: node ob.mjs verify IN.json');
  process.exit(2);
}
