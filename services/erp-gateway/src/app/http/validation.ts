import {
  ParseUUIDPipe,
  ValidationPipe,
  applyDecorators,
  type PipeTransform,
  type Type,
  type ValidationError,
} from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches, ValidateBy, type ValidationOptions } from 'class-validator';
import { oneLineTextProblem } from '@pipac/persistence';
import { InvalidInputException, type FieldProblem } from './problem';

/** An order id in a path: a UUID, or a 400 that names `id`. */
export const orderIdPipe = new ParseUUIDPipe({
  version: '4',
  exceptionFactory: () =>
    new InvalidInputException([{ field: 'id', reason: 'must be an order id (a UUID)' }]),
});

/** A subscription id in a path: a UUID, or a 400 that names `id`. */
export const subscriptionIdPipe = new ParseUUIDPipe({
  version: '4',
  exceptionFactory: () =>
    new InvalidInputException([{ field: 'id', reason: 'must be a subscription id (a UUID)' }]),
});

/**
 * A string property that is acceptable free text (well-formed Unicode, no control
 * characters): see oneLineTextProblem. Every text field of every DTO carries it; the body check
 * in json-body.ts applies the same rule to every string of a body, so a field a DTO forgets
 * is covered too.
 */
export function IsFreeText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isFreeText',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !oneLineTextProblem(value),
        defaultMessage: (args) =>
          `${args?.property ?? 'text'} ${typeof args?.value === 'string' ? (oneLineTextProblem(args.value) ?? '') : ''}`.trim(),
      },
    },
    options,
  );
}

/**
 * The `reason` every change carries (it goes to the audit trail): 1–500 characters of one
 * line of well-formed text, not blank.
 */
export function Reason(example?: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      type: String,
      description: 'Why (recorded in the audit trail): one line, no control characters',
      ...(example ? { example } : {}),
      minLength: 1,
      maxLength: 500,
      pattern: '\\S',
    }),
    IsString(),
    Length(1, 500),
    Matches(/\S/, { message: 'reason must not be blank' }),
    IsFreeText(),
  );
}

/**
 * A path parameter that names a record by a free-form key (a lot id, a model version):
 * free text of 1 to `maxLength` characters, or a 400 naming the parameter. Without it a NUL
 * reached PostgreSQL, which refuses it (a 500).
 */
export function textParam(name: string, maxLength: number): PipeTransform<string, string> {
  return {
    transform: (value: string) => {
      const reason =
        value.length === 0 || value.length > maxLength
          ? `must be 1 to ${maxLength} characters`
          : oneLineTextProblem(value);
      if (reason) throw new InvalidInputException([{ field: name, reason }]);
      return value;
    },
  };
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
