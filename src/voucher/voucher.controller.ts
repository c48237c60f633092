import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public, RequireRole } from '../auth/auth.decorators';
import { ParseIdPipe } from '../common/parse-id.pipe';
import { CreatedIdResponse, CreateSeckillVoucherRequest, CreateVoucherRequest } from './dto/create-voucher.dto';
import { VoucherResponse } from './dto/voucher.response';
import { VoucherCatalogService } from './voucher-catalog.service';
import { ApiErrors } from '../common/errors/api-errors.decorator';

@ApiTags('voucher')
@Controller('voucher')
export class VoucherController {
  constructor(private readonly vouchers: VoucherCatalogService) {}

  @Post()
  @HttpCode(201)
  @RequireRole('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Create a normal voucher (admin)' })
  @ApiErrors(
    'VALIDATION_FAILED',
    'INVALID_JSON',
    'UNAUTHORIZED',
    'FORBIDDEN',
    'PAYLOAD_TOO_LARGE',
    'DATABASE_UNAVAILABLE',
  )
  async create(@Body() body: CreateVoucherRequest): Promise<CreatedIdResponse> {
    return { id: await this.vouchers.createVoucher(body) };
  }

  @Post('seckill')
  @HttpCode(201)
  @RequireRole('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Create a seckill voucher with stock and sale window (admin)' })
  @ApiErrors(
    'VALIDATION_FAILED',
    'INVALID_JSON',
    'INVALID_TIME_WINDOW',
    'UNAUTHORIZED',
    'FORBIDDEN',
    'PAYLOAD_TOO_LARGE',
    'DATABASE_UNAVAILABLE',
  )
  async createSeckill(@Body() body: CreateSeckillVoucherRequest): Promise<CreatedIdResponse> {
    return { id: await this.vouchers.createSeckillVoucher(body) };
  }

  @Public()
  @Get('list/:shopId')
  @ApiOperation({ summary: "A shop's vouchers, with remaining stock and window for seckill ones" })
  @ApiErrors('INVALID_ID', 'DATABASE_UNAVAILABLE')
  list(@Param('shopId', ParseIdPipe) shopId: string): Promise<VoucherResponse[]> {
    return this.vouchers.listByShop(shopId);
  }

  @Public()
  @Get(':id')
  @ApiOperation({ summary: 'One voucher (seckill ones with remaining stock and window)' })
  @ApiErrors('INVALID_ID', 'VOUCHER_NOT_FOUND', 'DATABASE_UNAVAILABLE')
  findOne(@Param('id', ParseIdPipe) id: string): Promise<VoucherResponse> {
    return this.vouchers.findOne(id);
  }
}
