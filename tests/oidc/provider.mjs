// A real OpenID Connect provider (panva's oidc-provider) for Tandem's login tests, on a loopback port.
// usage: node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
// Static test accounts only; sign in on the provider's own (development) login form with the e-mail as the
// login name and any password. Prints "ready <issuer>" once it listens.
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
if (!port || !clientId || !clientSecret || !redirectUri) {
  console.error('usage: node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI');
  process.exit(2);
}

const ACCOUNTS = {
  'finance@example.com': { name: 'Fiona Finance', groups: ['tandem-finance'] },
  'procurement@example.com': { name: 'Pat Procurement', groups: ['tandem-procurement'] },
  'viewer@example.com': { name: 'Victor Viewer', groups: ['tandem-viewers'] },
  'stranger@example.com': { name: 'Sam Stranger', groups: ['somewhere-else'] },
};

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  conformIdTokenClaims: false, // put the e-mail, name and groups into the ID token, which Streamlit reads
  pkce: { required: () => false },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['tandem-test-provider-only'] },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true, name: account.name, groups: account.groups };
      },
    };
  },
  // A first-party client: no consent screen (grant every requested scope once the user has signed in).
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
