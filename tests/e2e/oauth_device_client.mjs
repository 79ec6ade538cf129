// An OAuth client nobody here wrote (panva's oauth4webapi) against this server, from its base URL
// alone: discovery (RFC 8414), the device grant (RFC 8628), the API, refresh, revocation (RFC
// 7009), and the API again. One JSON line per step on stdout, read by tests/e2e/test_interop.py.
//
//   node oauth_device_client.mjs <server URL> <client id> [dpop]
//
// With `dpop`, the tokens are bound to a key pair the library makes (RFC 9449): every token
// request and API call carries its proof, and a `stolen` step sends the access token alone.
import * as oauth from 'oauth4webapi'

const [issuerUrl, clientId, mode] = process.argv.slice(2)
const issuer = new URL(issuerUrl)
const client = { client_id: clientId }
const DPoP = mode === 'dpop' ? oauth.DPoP(client, await oauth.generateKeyPair('ES256')) : undefined
// The test server speaks plain HTTP on loopback.
const options = { [oauth.allowInsecureRequests]: true, DPoP }
const clientAuth = oauth.None()
const say = (step, detail) => console.log(JSON.stringify({ step, ...detail }))

// A request the server may answer `use_dpop_nonce`: the handle keeps the nonce; once more.
async function withNonce (send) {
  try {
    return await send()
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error
    return await send()
  }
}

// The API's answer; a refusal is what the library makes of its WWW-Authenticate challenge.
async function me (accessToken, requestOptions = options) {
  try {
    const response = await oauth.protectedResourceRequest(
      accessToken, 'GET', new URL('/api/me/', issuer), undefined, undefined, requestOptions)
    return { status: response.status, body: await response.json() }
  } catch (error) {
    if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error
    return { status: error.status, challenges: error.cause }
  }
}

const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }))
say('discovered', { token_endpoint: as.token_endpoint, device_authorization_endpoint: as.device_authorization_endpoint })

const device = await oauth.processDeviceAuthorizationResponse(as, client,
  await oauth.deviceAuthorizationRequest(as, client, clientAuth, {}, options))
say('device', { user_code: device.user_code, verification_uri_complete: device.verification_uri_complete, interval: device.interval })

let tokens
let polls = 0
for (;;) {
  await new Promise(resolve => setTimeout(resolve, (device.interval ?? 5) * 1000))
  polls += 1
  try {
    tokens = await withNonce(async () => oauth.processDeviceCodeResponse(as, client,
      await oauth.deviceCodeGrantRequest(as, client, clientAuth, device.device_code, options)))
    break
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError && error.error === 'authorization_pending') continue
    if (error instanceof oauth.ResponseBodyError && error.error === 'slow_down') {
      device.interval = (device.interval ?? 5) + 5
      continue
    }
    throw error
  }
}
say('tokens', { polls, token_type: tokens.token_type, expires_in: tokens.expires_in, has_refresh: Boolean(tokens.refresh_token) })
say('me', await me(tokens.access_token))
if (DPoP) {
  // Whoever copied the access token, without the key: a plain bearer request.
  say('stolen', await me(tokens.access_token, { ...options, DPoP: undefined }))
}

const refreshed = await withNonce(async () => oauth.processRefreshTokenResponse(as, client,
  await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, options)))
say('refreshed', { rotated: refreshed.refresh_token !== tokens.refresh_token })
say('me_after_refresh', await me(refreshed.access_token))

await oauth.processRevocationResponse(
  await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token, { ...options, additionalParameters: { token_type_hint: 'refresh_token' } }))
say('revoked', {})
say('me_after_revoke', await me(refreshed.access_token))
