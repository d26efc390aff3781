// A real OpenID Connect provider (oidc-provider) for Shortlist's integration tests.
//
//   node provider.mjs PORT
//
// Issues RFC 9068 JWT access tokens (`typ: at+jwt`) for the resource `urn:shortlist:api` through
// the client_credentials grant. Every start signs with a NEW RSA key (a fresh `kid`), so a restart
// looks like a key rotation to the resource server. Prints `READY <issuer> <kid>` once listening.
import * as crypto from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number.parseInt(process.argv[2] ?? '0', 10);
const issuer = `http://127.0.0.1:${port}`;
const audience = 'urn:shortlist:api';
const scopes = [
  'applications:read', 'applications:write', 'reviews:read', 'reviews:write', 'rounds:admin',
  'audit:read',
];

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = crypto.randomUUID();
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };

// Test-only credentials: the integration test uses exactly these.
const client = (clientId, roles) => ({
  client_id: clientId,
  client_secret: `${clientId}-secret`,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: scopes.join(' '),
  roles,
});

const provider = new Provider(issuer, {
  clients: [
    client('admin-bot', ['shortlist-admins']),
    client('reviewer-bot', ['shortlist-reviewers', 'unmapped-group']),
  ],
  extraClientMetadata: { properties: ['roles'] },
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => audience,
      getResourceServerInfo: async (_ctx, resourceIndicator) => {
        if (resourceIndicator !== audience) throw new Provider.errors.InvalidTarget();
        return {
          audience,
          scope: scopes.join(' '),
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // The roles claim that Shortlist maps (SHORTLIST_OIDC_ROLES_CLAIM=roles).
  extraTokenClaims: async (ctx, token) => {
    const owner = ctx.oidc.client ?? (await provider.Client.find(token.clientId));
    return owner?.roles ? { roles: owner.roles } : undefined;
  },
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${issuer} ${kid}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
