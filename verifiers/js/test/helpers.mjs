import { bizStepTerm, dispositionTerm } from "../src/cbv.mjs";

export const cbvTerms = (term) => [bizStepTerm(term), dispositionTerm(term)];
