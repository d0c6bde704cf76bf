import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiParam,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsUrl, MaxLength } from 'class-validator';
import { ORDER_STATE_CHANGED, type Actor } from '@pipac/persistence';
import { Caller } from '../auth/caller.decorator';
import { Roles } from '../auth/roles';
import { ApiAuthenticated, ApiJsonBody, ApiProblems } from '../http/api-problems';
import { InvalidInputException } from '../http/problem';
import { IsFreeText, subscriptionIdPipe, validated } from '../http/validation';
import { WebhookTargetError, WebhookTargetPolicy } from './webhook-target-policy';
import { Stores } from '../stores';

const EVENT_TYPES = [ORDER_STATE_CHANGED] as const;

export class SubscribeDto {
  @ApiProperty({
    type: String,
    description:
      'Where to POST events (http or https). Loopback, link-local and cloud metadata addresses are refused ' +
      "unless the gateway's configuration allows their network (webhooks.allowNetworks)",
    example: 'https://erp.example/pipac/events',
    format: 'uri',
    pattern: '^https?://',
    maxLength: 1024,
  })
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  @MaxLength(1024)
  @IsFreeText()
  url!: string;

  @ApiPropertyOptional({
    type: String,
    enum: EVENT_TYPES,
    isArray: true,
    description: 'Event types; empty or absent: all',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @IsIn(EVENT_TYPES, { each: true })
  events?: string[];
}

export class SubscriptionView {
  @ApiProperty({ type: String, format: 'uuid' }) id!: string;
  @ApiProperty({ type: String }) url!: string;
  @ApiProperty({ type: String, isArray: true }) events!: string[];
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
}

export class NewSubscriptionView extends SubscriptionView {
  @ApiProperty({
    type: String,
    description: 'HMAC-SHA256 key of the pipac-signature header; shown once',
  })
  secret!: string;
}

@ApiTags('webhooks')
@ApiAuthenticated()
@Controller('webhooks')
export class WebhooksController {
  constructor(
    @Inject(Stores) private readonly stores: Stores,
    @Inject(WebhookTargetPolicy) private readonly targets: WebhookTargetPolicy,
  ) {}

  @Post()
  @Roles('erp')
  @ApiOperation({
    summary: 'Subscribe to order events',
    description:
      'Each event is POSTed as JSON with headers pipac-event-id, pipac-event-type, pipac-timestamp and ' +
      'pipac-signature (v1=HMAC-SHA256(secret, "<timestamp>.<body>")), and retried with exponential back-off until ' +
      'the receiver answers 2xx.',
  })
  @ApiBody({ type: SubscribeDto })
  @ApiCreatedResponse({ type: NewSubscriptionView })
  @ApiJsonBody('A malformed URL, or one whose host is (or resolves to) a refused address')
  async subscribe(
    @Caller() caller: Actor,
    @Body(validated(SubscribeDto)) body: SubscribeDto,
  ): Promise<NewSubscriptionView> {
    await this.targets.check(body.url).catch((error: unknown) => {
      if (error instanceof WebhookTargetError) {
        throw new InvalidInputException([{ field: 'url', reason: error.reason }]);
      }
      throw error;
    });
    const s = await this.stores.webhooks.subscribe(caller.id, body.url, body.events ?? []);
    return { id: s.id, url: s.url, events: s.events, createdAt: s.createdAt, secret: s.secret };
  }

  @Get()
  @Roles('erp')
  @ApiOperation({ summary: "The caller's subscriptions" })
  @ApiOkResponse({ type: SubscriptionView, isArray: true })
  async list(@Caller() caller: Actor): Promise<SubscriptionView[]> {
    return (await this.stores.webhooks.subscriptions(caller.id)).map((s) => ({
      id: s.id,
      url: s.url,
      events: s.events,
      createdAt: s.createdAt,
    }));
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('erp')
  @ApiOperation({ summary: 'Unsubscribe (pending deliveries are dropped)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse()
  @ApiProblems({
    400: 'An id that is not a subscription id (a UUID)',
    404: 'No subscription of yours with that id',
  })
  async unsubscribe(
    @Caller() caller: Actor,
    @Param('id', subscriptionIdPipe) id: string,
  ): Promise<void> {
    const subscription = await this.stores.webhooks.subscription(id);
    if (!subscription || subscription.clientId !== caller.id || subscription.revokedAt) {
      throw new InvalidInputException(
        [{ field: 'id', reason: `no subscription "${id}" of yours` }],
        404,
      );
    }
    await this.stores.webhooks.unsubscribe(id);
  }
}
