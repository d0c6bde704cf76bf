import { applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiSecurity,
  getSchemaPath,
} from '@nestjs/swagger';
import { BODY_LIMIT_BYTES } from './json-body';
import { STATUS_TITLES } from './problem';

export class FieldProblemView {
  @ApiProperty({
    type: String,
    description: 'The input at fault: a body field path, a parameter or a header',
  })
  field!: string;
  @ApiProperty({ type: String }) reason!: string;
}

/** RFC 9457 problem details, as every error answer carries them (http/problem.ts). */
export class ProblemView {
  @ApiProperty({ type: String, example: 'about:blank' }) type!: string;
  @ApiProperty({ type: String, example: 'Bad Request' }) title!: string;
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599 }) status!: number;
  @ApiProperty({ type: String }) detail!: string;
  @ApiPropertyOptional({
    type: FieldProblemView,
    isArray: true,
    description: 'Every input at fault, with its reason (bad input only)',
  })
  errors?: FieldProblemView[];
  @ApiPropertyOptional({
    type: String,
    description: 'Why a bearer token was refused, for programs (EXPIRED, WRONG_AUDIENCE, …)',
  })
  code?: string;
}

/** What each error status means when an operation does not say more. */
const DEFAULT_MEANING: Readonly<Record<number, string>> = {
  400: 'Bad input: every field, parameter or header at fault is named with its reason',
  401: 'No credentials, or an unknown or revoked API key, or an access token that failed verification',
  403: 'The caller lacks the role this operation needs',
  404: 'No such object',
  409: 'The object is not in a state that allows this, or changed since (expectedVersion)',
  413: `The body is larger than ${BODY_LIMIT_BYTES / 1024} kB`,
  415: 'The body is not application/json in UTF-8',
  422: 'Well-formed but refused',
  503: 'Single sign-on: the identity provider could not be reached to check a token; retry',
};

/**
 * Documents error answers as problem details (`application/problem+json`, schema ProblemView):
 * each status given, with the operation's own meaning where it has one.
 */
export function ApiProblems(
  problems: Partial<Record<number, string | true>>,
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemView, FieldProblemView),
    ...Object.entries(problems).map(([code, meaning]) => {
      const status = Number(code);
      return ApiResponse({
        status,
        description: `${STATUS_TITLES[status] ?? 'Error'}: ${
          typeof meaning === 'string' ? meaning : (DEFAULT_MEANING[status] ?? 'see detail')
        }`,
        content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemView) } } },
      });
    }),
  );
}

/**
 * For a controller: its operations need an API key or an access token (either header), and may
 * be refused with 401, 403 or, when single sign-on is configured and the provider is down, 503.
 */
export function ApiAuthenticated(): ClassDecorator {
  return applyDecorators(
    ApiSecurity('apiKey'),
    ApiBearerAuth('bearer'),
    ApiProblems({ 401: true, 403: true, 503: true }),
  );
}

/** For an operation that takes a JSON body: 400 (malformed or invalid), 413 and 415. */
export function ApiJsonBody(invalid = DEFAULT_MEANING[400]!): MethodDecorator {
  return ApiProblems({ 400: invalid, 413: true, 415: true });
}
