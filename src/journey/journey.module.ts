import { Module } from '@nestjs/common';
import { JourneyController } from 'src/journey/journey.controller';
import { JourneyRepository } from 'src/journey/journey.repository';
import { JourneyService } from 'src/journey/journey.service';

@Module({
  controllers: [JourneyController],
  providers: [JourneyService, JourneyRepository],
})
export class JourneyModule {}
