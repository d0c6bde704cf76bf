import type { PlantModel } from '@pipac/twin';

// The operator's endpoints need the plant as the recipe describes it: which setpoints each step
// has, on which device, in which unit and within which engineering limits. The gateway's other
// parts do not, so the option is declared here, beside the code that reads it.
declare module '../gateway-options' {
  interface ErpGatewayOptions {
    /**
     * The compiled plant. With it, an operator's setpoint is checked at the REST edge (step,
     * tag, unit, engineering limits: refused with a 4xx and audited) and addressed to the
     * step's module; without it, the command goes out as given for the adapter to check.
     * @default none
     */
    plant?: PlantModel;
    /**
     * How long an operator's setpoint stays valid on its way to the device, ms of the gateway's
     * clock (a cell that runs faster than real time scales it, so a person still gets 30 s of
     * wall time). @default 30_000
     */
    setpointDeadlineMs?: number;
  }
}

export {};
