// The gateway's own test-card behaviour, in front of any issuer: the `gateway_error` card fails here,
// as a gateway fault would, before the bank is asked, so nothing can have been authorised. Every
// other test card is the bank's business (src/core/test-cards.ts).
import { testCard } from '../../core/test-cards.ts';
import type { IssuerPort } from './issuer.port.ts';

/** Wraps an issuer so that the gateway's test cards behave as documented. */
export function withGatewayTestCards(issuer: IssuerPort): IssuerPort {
  return {
    authorize: async (request) => {
      if (testCard(request.card.number)?.behaviour === 'gateway_error')
        return { status: 'failed', reason: 'gateway_error' };
      return issuer.authorize(request);
    },
    findByReference: (gatewayRef) => issuer.findByReference(gatewayRef),
    status: (authorizationId) => issuer.status(authorizationId),
    capture: (authorizationId, amount) => issuer.capture(authorizationId, amount),
    void: (authorizationId) => issuer.void(authorizationId),
    refund: (authorizationId, refundRef, amount) => issuer.refund(authorizationId, refundRef, amount),
    ...(issuer.journey ? { journey: issuer.journey.bind(issuer) } : {}),
    ...(issuer.submitDisputeEvidence ? { submitDisputeEvidence: issuer.submitDisputeEvidence.bind(issuer) } : {}),
    ...(issuer.acceptDispute ? { acceptDispute: issuer.acceptDispute.bind(issuer) } : {}),
    ...(issuer.payout ? { payout: issuer.payout.bind(issuer) } : {}),
  };
}
