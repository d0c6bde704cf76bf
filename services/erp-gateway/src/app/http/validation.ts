import { ValidationPipe, type Type, type ValidationError } from '@nestjs/common';
import { InvalidInputException, type FieldProblem } from './problem';

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
