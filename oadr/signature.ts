/**
 * XML signatures of OpenADR 2.0b, the "High" security level (R514, §10.6; issue 7): sign an
 * oadrPayload, verify one (with the replay cache), and the stable codes. What `oadr/index.ts`
 * exports of this layer.
 */
export { signOadr, type SignatureForm, type SignOptions } from './signature-sign.ts';
export { unprefixedXml } from './xml-unprefixed.ts';
export { DEFAULT_SIGNATURE_WINDOW_MS, verifyOadr, type RefusedSignature, type VerifiedSignature, type VerifyOptions, type VerifyResult } from './signature-verify.ts';
export { createNonceCache, DEFAULT_NONCE_CACHE_ENTRIES, type NonceCache, type NonceCacheOptions } from './signature-nonce-cache.ts';
export { OadrSignatureError, SignatureErrorCode, SignatureFailure, type SignatureErrorCodeValue, type SignatureFailureCode } from './errors.ts';
export { ECDSA_SHA256, RSA_SHA256 } from './signature-algorithms.ts';
