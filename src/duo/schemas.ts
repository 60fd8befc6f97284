/**
 * zod schemas for the Admin API's envelope and the responses that are not domain objects
 * (the objects themselves are in src/domain/duo-objects.ts).
 */
import { z } from 'zod';

export const VerificationPushSchema = z.looseObject({
  push_id: z.string(),
  confirmation_code: z.string(),
});

export const VerificationPushResultSchema = z.looseObject({
  push_id: z.string(),
  result: z.enum(['approve', 'deny', 'fraud', 'waiting']),
});

/** Success envelope; `response` is validated by the caller's schema. */
export const OkEnvelopeSchema = z.looseObject({
  stat: z.literal('OK'),
  response: z.unknown(),
  metadata: z
    .looseObject({
      next_offset: z.union([z.number(), z.string(), z.array(z.unknown())]).nullish(),
      prev_offset: z.union([z.number(), z.string(), z.array(z.unknown())]).nullish(),
      total_objects: z.number().nullish(),
    })
    .optional(),
});

export const FailEnvelopeSchema = z.looseObject({
  stat: z.literal('FAIL'),
  // The Go client tolerates a string code; so do we.
  code: z.union([z.number(), z.string().transform((s) => Number(s))]).optional(),
  message: z.string().optional(),
  message_detail: z.string().nullish(),
});

export const EnvelopeSchema = z.union([OkEnvelopeSchema, FailEnvelopeSchema]);

export type VerificationPush = z.infer<typeof VerificationPushSchema>;
export type OkEnvelope = z.infer<typeof OkEnvelopeSchema>;

/**
 * Duo Mobile activation (POST /admin/v1/phones/[phone_id]/send_sms_activation and activation_url): only
 * the validity is kept. The activation link and barcode in Duo's answer are secrets (whoever holds them
 * owns the user's second factor): this non-loose schema drops them, so they never leave the client.
 */
export const ActivationSentSchema = z.object({
  valid_secs: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]),
});
