/**
 * Auth: verifies bearer tokens exactly as kube-apiserver's OIDC authenticator does (issuer, audience,
 * exp without leeway, nbf with 60 s, asymmetric algorithms only, claims before signature, the same claim
 * mappings). Promises a UserInfo or a 401 AdmissionError whose detail never contains the token. It does
 * not add `system:authenticated`; the admission steps do, like kube-apiserver's group adder.
 * With --token-passthrough, TokenReviewService asks the API server about tokens OIDC refused (401 unless
 * the API server clearly accepts them).
 */
import { Module } from '@nestjs/common';
import { UpstreamModule } from '../upstream/upstream.module.js';
import { OidcAuthenticatorService } from './oidc-authenticator.service.js';
import { TokenReviewService } from './token-review.service.js';

@Module({ imports: [UpstreamModule], providers: [OidcAuthenticatorService, TokenReviewService], exports: [OidcAuthenticatorService, TokenReviewService] })
export class AuthModule {}
