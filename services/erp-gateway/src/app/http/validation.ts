import {
  ParseUUIDPipe,
  ValidationPipe,
  applyDecorators,
  type Type,
  type ValidationError,
} from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import { InvalidInputException, type FieldProblem } from './problem';

/** An order id in a path: a UUID, or a 400 that names `id`. */
export const orderIdPipe = new ParseUUIDPipe({
  version: '4',
  exceptionFactory: () =>
    new InvalidInputException([{ field: 'id', reason: 'must be an order id (a UUID)' }]),
});

/**
 * The `reason` every change carries (it goes to the audit trail): 1–500 characters, not
 * blank.
 */
export function Reason(example?: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      type: String,
      description: 'Why (recorded in the audit trail)',
      ...(example ? { example } : {}),
      maxLength: 500,
    }),
    IsString(),
    Length(1, 500),
    Matches(/\S/, { message: 'reason must not be blank' }),
  );
}

/**
 * Validates a body or query against its DTO class. The class is named explicitly
 * (`expectedType`) rather than read from decorator metadata, which the services do not have
 * when they run through tsx. Unknown fields are refused, not dropped: a typo in an ERP's
 * payload should not silently do nothing.
 */
export function validated<T>(type: Type<T>): ValidationPipe {
  return new ValidationPipe({
    expectedType: type,
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new InvalidInputException(flatten(errors)),
  });
}

function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = `${prefix}${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((reason) => ({ field, reason }));
    return [...own, ...flatten(error.children ?? [], `${field}.`)];
  });
}
