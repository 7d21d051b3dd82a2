// An OpenID provider for SRM's single sign-on tests: the certified `oidc-provider` package,
// on a loopback port, with one client (SRM) and a few people. PKCE is required for every
// client; login and consent are the package's development pages (any password).
//
//   PORT=… JWKS_FILE=keys.json node tests/identity/oidc_provider.mjs
//
// Prints "ready <issuer>" once it listens. The signing keys come from JWKS_FILE, so tests can
// sign ID tokens with the provider's own key (and check that SRM refuses the wrong ones).
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

export const PEOPLE = {
  alice: {
    preferred_username: 'alice', email: 'alice.adams@example.com', email_verified: true,
    given_name: 'Alice', family_name: 'Adams', name: 'Alice Adams',
    department: 'MKT', manager: 'hank', groups: ['srm-users'],
  },
  nora: {
    preferred_username: 'nora', email: 'nora.new@example.com', email_verified: true,
    given_name: 'Nora', family_name: 'Newman', name: 'Nora Newman',
    department: 'IT', manager: 'irene', groups: ['srm-users', 'srm-agents'],
  },
  // An IT agent in SRM whom the directory has since moved to HR.
  ivan: {
    preferred_username: 'ivan', email: 'ivan.ivanov@example.com', email_verified: true,
    given_name: 'Ivan', family_name: 'Ivanov', name: 'Ivan Ivanov',
    department: 'HR', manager: 'hugo', groups: ['srm-users'],
  },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'srm',
    client_secret: 'srm-test-secret',
    redirect_uris: ['http://localhost/accounts/oidc/callback/'],
    post_logout_redirect_uris: ['http://localhost/accounts/login/'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  pkce: { required: () => true },
  jwks: JSON.parse(readFileSync(process.env.JWKS_FILE, 'utf8')),
  cookies: { keys: ['srm-test-cookie-key'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'department',
      'manager', 'groups'],
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  async findAccount(ctx, id) {
    const person = PEOPLE[id];
    if (!person) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...person }; } };
  },
});

// SRM's test server listens on a port chosen when it starts: as for the loopback redirects of
// RFC 8252, the registered paths are allowed on any port of the loopback host.
const loopback = (uri, path) => {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && ['localhost', '127.0.0.1', 'testserver'].includes(url.hostname)
      && url.pathname === path && !url.search && !url.hash;
  } catch {
    return false;
  }
};
provider.Client.prototype.redirectUriAllowed = function allowed(uri) {
  return loopback(uri, '/accounts/oidc/callback/');
};
provider.Client.prototype.postLogoutRedirectUriAllowed = function allowed(uri) {
  return loopback(uri, '/accounts/login/');
};

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});

// Errors the provider answered with, on its output (shown when a test fails to start it).
for (const event of ['server_error', 'end_session.error', 'authorization.error', 'grant.error']) {
  provider.on(event, (ctx, error) => console.error(event, error.message, error.cause?.message ?? ''));
}
