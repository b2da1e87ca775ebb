export { SimCharger, type SimChargerOptions } from "./sim-charger.ts";
export { startFleet, simCpIds, type Fleet, type FleetOptions } from "./fleet.ts";
export { provisionChargers, type ChargerCredentials, type ProvisionOptions } from "./provision.ts";
