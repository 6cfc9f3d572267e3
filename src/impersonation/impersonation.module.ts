/**
 * Impersonation: decides which identity the API server sees. Promises that the outbound identity is
 * exactly the authenticated one (plus operator-configured extras and `system:authenticated`), unless the
 * client asked for end-user impersonation (`kubectl --as`) and every SubjectAccessReview kube-apiserver
 * would make allowed it; then the target, with the original user in `originaluser.jetstack.io-*` extras.
 * Refuses reserved identities from the identity provider, malformed or unknown Impersonate-* headers (400),
 * denied impersonation (403), and any review it could not complete (403, never an allow).
 */
import { Module } from '@nestjs/common';
import { UpstreamModule } from '../upstream/upstream.module.js';
import { ImpersonationService } from './impersonation.service.js';
import { SubjectAccessReviewService } from './subject-access-review.service.js';

@Module({ imports: [UpstreamModule], providers: [ImpersonationService, SubjectAccessReviewService], exports: [ImpersonationService] })
export class ImpersonationModule {}
